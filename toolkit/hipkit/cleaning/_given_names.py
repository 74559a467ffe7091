"""A modest list of common given names, used as evidence that a value is a person's name.

The list is a fact compiled by hand (not copied from a data file) from the most frequent given
names in these published statistics, a few dozen to about a hundred per source:

- US Social Security Administration, "Top names over the last 100 years" and "Popular names by
  decade" (https://www.ssa.gov/oact/babynames/decades/), both sexes;
- Office for National Statistics, "Baby names in England and Wales" (annual bulletins, top 100),
  and the names most frequent among adults born 1940-1990 in the same series;
- Statistics Canada and the Australian state registries' popular-name lists (mostly the same
  names as above);
- Gesellschaft fuer deutsche Sprache, "Die beliebtesten Vornamen" (Germany);
- INSEE, "Fichier des prenoms" (France);
- INE, "Nombres y apellidos mas frecuentes" (Spain) and INE Portugal / IBGE "Nomes no Brasil";
- ISTAT, "I nomi piu frequenti" (Italy);
- Meertens Instituut, "Nederlandse Voornamenbank" (the Netherlands);
- GUS / the PESEL register's "Imiona nadawane dzieciom" (Poland);
- Statistics Sweden, Statistics Denmark and Statistics Norway name statistics;
- for names frequent among patients of South Asian and Arabic heritage in the UK, US and Canada,
  the same ONS and SSA lists.

Names that are also ordinary words likely to start a phrase in a clinic export (Will, Mark, May,
June, April, August, Hope, Faith, Joy, Bill, Pat, Art, Guy, Frank, Rich, Dawn, Summer, ...) are left
out on purpose: a given name is only evidence when it is not also a common word.
"""

from __future__ import annotations

import unicodedata

__all__ = ["GIVEN_NAMES", "fold"]

_SOURCES = {
    "us_ssa": """
        james robert john michael david william richard joseph thomas christopher charles daniel
        matthew anthony donald steven andrew paul joshua kenneth kevin brian timothy ronald george
        jason edward jeffrey ryan jacob nicholas gary eric jonathan stephen larry justin scott brandon
        benjamin samuel gregory alexander patrick raymond jack dennis jerry tyler aaron jose adam
        nathan henry zachary douglas peter kyle noah ethan jeremy christian walter keith austin roger
        terry sean gerald carl dylan harold jordan jesse bryan lawrence arthur gabriel bruce logan
        billy joe alan juan elijah willie albert wayne randy mason vincent liam roy bobby caleb
        bradley russell lucas jon ralph eugene louis philip johnny howard jimmy earl fred clarence
        craig shawn todd travis chad derek marcus curtis glenn leonard troy dale rodney randall
        alexis antonio luis carlos miguel jesus mario victor manuel alejandro ricardo javier
        mary patricia jennifer linda elizabeth barbara susan jessica karen sarah lisa nancy sandra
        betty ashley emily donna kimberly margaret michelle carol amanda melissa deborah stephanie
        rebecca sharon laura cynthia dorothy amy kathleen angela shirley emma brenda pamela nicole
        anna samantha katherine christine debra rachel carolyn janet maria olivia heather helen
        catherine diane julie victoria joyce lauren kelly christina ruth joan virginia judith evelyn
        hannah andrea megan cheryl jacqueline madison teresa abigail sophia martha sara gloria janice
        kathryn ann isabella judy charlotte julia grace amber alice jean denise frances danielle
        marilyn natalie beverly diana brittany theresa kayla doris lori tiffany crystal rachael
        tammy tina wendy valerie marie jane anne kristen erin courtney allison erica monica
        vanessa veronica jasmine alyssa morgan taylor haley brianna destiny ava mia harper ella
        chloe avery aubrey zoey lily layla riley nora hazel ellie claire violet aurora savannah
        audrey brooklyn bella scarlett paisley skylar lucy anna naomi elena aaliyah gianna leah
        mildred lillian irene louise phyllis norma gladys esther lois marjorie jeanette darlene
        sylvia lucille rita edna bernice peggy beatrice eleanor wanda connie ethel bonnie kathy
        janice sherry brittany nina monique yolanda regina carmen rosa ana
    """,
    "ons_uk": """
        oliver harry jack charlie thomas oscar william james george leo arthur archie alfie freddie
        theo teddy reggie henry joshua isaac edward finley logan ethan mohammed muhammad
        mohammad sebastian harrison elliot elliott louie reuben rory jaxon hugo luca albie toby
        jude riley dylan callum connor kieran ross lewis jamie liam aidan owen rhys gareth
        gavin dean darren lee craig stuart ian colin graham neil nigel trevor derek keith barry
        malcolm martin simon andrew clive alistair duncan hamish angus fraser euan iain ewan
        declan ciaran niall padraig seamus eoin cormac
        amelia isla ava mia ivy lily isabella rosie sophia grace willow freya florence emily ella
        poppy evie elsie sienna sofia daisy phoebe sophie alice harper matilda ruby emilia maya
        millie isabelle eva luna jessica chloe bella lucy esme ellie lottie harriet imogen holly
        molly katie megan gemma hayley kirsty nicola claire louise tracey tracy joanne lorraine
        julie gillian pauline maureen sheila brenda irene doreen eileen sylvia wendy kerry leanne
        stacey zoe jade natalie samantha charlotte bethany abigail eleanor georgia amber niamh
        siobhan aoife ciara sinead orla fiona morag kirsteen elspeth catriona mairi ailsa
    """,
    "de": """
        maximilian alexander paul elias leon felix lukas jonas luca finn noah ben emil anton jakob
        moritz julian niklas tim jan hans peter klaus jurgen wolfgang dieter gunter guenter horst
        helmut manfred uwe werner gerhard karl heinz stefan andreas markus matthias sven jorg
        dirk ralf bernd holger torsten thorsten florian tobias sebastian philipp fabian johannes
        lars kai rainer reinhard harald hartmut norbert detlef volker ulrich gunther joachim
        siegfried friedrich wilhelm hermann otto ernst kurt walter fritz franz josef rudolf erich
        karsten carsten kerstin jens jorn bjorn ole henning heiko mirko marco benedikt konstantin
        mia emma hannah sophia emilia lina marie lea anna mila clara leni ella lena johanna laura
        sarah julia lisa katharina ursula monika petra sabine andrea renate gisela helga ingrid
        karin brigitte elke heike birgit susanne claudia stefanie nicole sandra anja kerstin silke
        martina gabriele ute doris christa erika hildegard inge jutta barbel angelika annette tanja
        katja nina franziska jana melanie christiane marion manuela daniela bettina anke antje
        dagmar edith elfriede gertrud irmgard margarete margot marianne rosemarie waltraud
        bernadette charlotte frieda greta ida mathilda paula pia romy sophie theresa
    """,
    "fr": """
        jean pierre michel andre philippe rene louis alain jacques bernard marcel daniel roger
        robert paul claude christian henri georges nicolas francois patrick gerard christophe
        joseph julien maurice laurent frederic eric stephane david pascal sebastien thierry olivier
        guillaume antoine mathieu romain hugo lucas theo gabriel raphael leo jules arthur mael
        nathan adrien alexandre benoit bruno cedric damien didier emmanuel fabrice franck gilles
        herve jerome lionel ludovic mickael yannick yves xavier vincent gilbert roland lucien
        marie jeanne francoise monique catherine nathalie isabelle jacqueline anne sylvie martine
        madeleine nicole suzanne helene christine marguerite denise louise christiane yvonne
        valerie sophie sandrine stephanie celine aurelie camille julie lea manon chloe emma ines
        jade lola zoe alice lina mathilde juliette margaux margot elodie amandine agathe adele
        adelaide alix brigitte chantal colette dominique genevieve josette michele odette
        simone therese veronique virginie capucine clemence eloise oceane pauline
    """,
    "es_pt": """
        antonio jose manuel francisco david juan javier daniel carlos jesus alejandro miguel rafael
        pedro pablo angel sergio fernando jorge luis alberto alvaro diego adrian raul enrique ramon
        vicente ivan ruben oscar andres joaquin santiago eduardo victor roberto jaime mario ignacio
        alfonso salvador ricardo marcos jordi emilio julian guillermo gabriel tomas agustin gonzalo
        felix hugo martin lucas mateo leo iker unai aitor xavier marc pau arnau
        maria carmen ana isabel laura cristina marta dolores lucia pilar elena paula raquel sara
        rosa mercedes manuela rocio beatriz teresa silvia julia patricia encarnacion montserrat
        alba irene andrea nuria rosario sofia inmaculada claudia alicia esther concepcion marina
        sonia monica angela yolanda martina carla noelia eva susana natalia josefa francisca
        antonia lorena veronica miriam ainhoa leire aitana rafaela albina
        joao luiz paulo rui tiago diogo goncalo rodrigo afonso duarte martim enzo heitor bernardo
        davi lorenzo guilherme matheus felipe thiago vitor leonardo benicio thales caio renato
        francisca leonor matilde ines carolina mariana joana margarida rita catarina helena
        valentina heloisa livia isadora fernanda juliana camila larissa gabriela leticia adriana
        luciana vanessa giovanna agatha beatriz bruna daniela debora luana yasmin
    """,
    "it": """
        giuseppe giovanni antonio mario luigi francesco angelo vincenzo pietro salvatore carlo
        franco domenico bruno paolo michele giorgio aldo sergio luciano alessandro andrea marco
        matteo lorenzo leonardo riccardo gabriele tommaso edoardo federico davide stefano massimo
        roberto fabio simone luca giulio emanuele enrico filippo jacopo mattia nicola raffaele
        rocco umberto vittorio cesare ottavio azeglio
        maria anna giuseppina rosa angela giovanna teresa lucia carmela caterina francesca
        antonietta carla elena concetta rita margherita franca paola laura giulia sofia aurora
        ginevra alice emma giorgia greta beatrice chiara martina sara alessia federica valentina
        silvia elisa roberta simona daniela alessandra monica barbara gabriella graziella ilaria
        lorenza marisa patrizia raffaella serena sonia viola
    """,
    "nl": """
        jan johannes cornelis hendrik willem pieter gerrit jacobus dirk adrianus daan sem lucas
        levi finn milan bram thijs jesse ruben lars stijn tim bas sander joost wouter maarten
        jeroen niels koen gijs hans kees henk piet joop wim ton theo matthijs jasper rutger
        sjoerd wessel thomas luuk
        johanna cornelia wilhelmina elisabeth hendrika tess sophie zoe mila eva fleur lotte
        anouk femke sanne lisa iris marloes ingrid annemarie marieke els anneke wilma ria truus
        joke mieke saskia esther linda inge petra monique fenna noor roos sanne yara
    """,
    "pl": """
        jan stanislaw andrzej jozef tadeusz jerzy zbigniew krzysztof henryk ryszard kazimierz
        marek marian piotr janusz wladyslaw adam wieslaw zdzislaw edward mieczyslaw roman
        miroslaw grzegorz czeslaw dariusz wojciech jacek eugeniusz tomasz stefan zygmunt leszek
        bogdan antoni pawel franciszek slawomir waldemar jaroslaw robert mariusz wlodzimierz
        michal zenon boguslaw witold aleksander bronislaw waclaw jakub kacper szymon filip
        mateusz bartosz lukasz kamil damian dawid maciej karol przemyslaw rafal artur patryk
        juliusz nikodem eryk oskar igor
        anna maria krystyna barbara ewa elzbieta zofia janina teresa jadwiga joanna agnieszka
        danuta irena halina helena katarzyna malgorzata stanislawa marianna jolanta beata
        aleksandra dorota alicja magdalena monika natalia karolina justyna iwona grazyna urszula
        renata bozena wanda julia zuzanna hanna maja lena oliwia amelia wiktoria emilia gabriela
        marta weronika paulina kinga sylwia adrianna agata ewelina izabela
    """,
    "nordic": """
        lars anders erik nils johan karl olof mikael jonas magnus henrik fredrik oskar axel
        emil hugo lukas elias ole bjorn knut sven jens soren niels mads rasmus mikkel kristian
        morten jorgen leif rune gustav ulf stig hakan goran bengt lennart kjell arne tore
        villads frederik jesper troels kasper
        anna maria margareta elisabeth eva kristina birgitta karin ingrid marie linnea astrid
        elsa alice maja saga ebba freja ella wilma olivia nora emma ida sofie mette hanne kirsten
        inger lene tove solveig sigrid liv ingeborg kari randi bente nanna signe karen birthe
        gunilla ulla lena annika camilla malin
    """,
    "south_asian_arabic": """
        aarav arjun rahul amit anil sunil vijay sanjay deepak ravi vivek rohit rajesh suresh ramesh
        mahesh ganesh krishna arun ashok manoj prakash kiran harpreet gurpreet jaswinder mandeep
        sandeep rajinder kuldeep imran tariq asif zubair bilal hamza usman faisal
        priya neha pooja anjali sunita kavita anita lakshmi divya meera asha shreya nisha rekha
        geeta seema sita radha parveen nasreen shabana ayesha
        ahmed ali omar hassan hussein ibrahim yusuf yousef mustafa khalid abdullah mahmoud karim
        youssef rashid samir tariq walid
        fatima aisha mariam maryam zainab noor layla amina hana rania yasmin salma leila zahra
    """,
}


def fold(text: str) -> str:
    """Lower-case ``text`` and remove accents, so that "José" and "jose" compare equal.

    Examples
    --------
    >>> fold("José"), fold("Jürgen"), fold("Łukasz")
    ('jose', 'jurgen', 'lukasz')
    """
    decomposed = unicodedata.normalize("NFKD", str(text).lower())
    # NFKD keeps a few letters whole (Polish l-stroke, Danish o-slash, German sharp s).
    decomposed = decomposed.translate(str.maketrans({"ł": "l", "ø": "o", "ß": "ss", "đ": "d", "æ": "ae"}))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


#: Common given names, lower-case and without accents (compare with :func:`fold`).
GIVEN_NAMES: frozenset[str] = frozenset(fold(n) for text in _SOURCES.values() for n in text.split())

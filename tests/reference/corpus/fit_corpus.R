# Fits every model of the generated corpus (models.json, data/dNNN.csv; SIMULATED data written by
# generate.py) with lme4 / lmerTest / pbkrtest / emmeans and writes corpus.json.
#
#   Rscript tests/reference/corpus/fit_corpus.R              all models -> corpus.json
#   Rscript tests/reference/corpus/fit_corpus.R 20           the first 20 models -> corpus_subset.json (timing)
#   Rscript tests/reference/corpus/fit_corpus.R d001_m1_reml ...   named models -> corpus_subset.json
#
# Each model is fitted by lme4 with three tight optimiser settings (bobyqa, Nelder_Mead, nloptwrap);
# the fit with the lowest criterion (REML criterion or ML deviance) is kept, refitted through
# lmerTest with the winning control, and every quantity is taken from it. The criterion each
# optimiser reached, its convergence messages and warnings are recorded too.
# Kenward-Roger (lmerTest + pbkrtest) only for REML models with at most 60 participants.
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
source(file.path(here, "..", "_common.R"))  # capture, dedupe, coef_rows, anova_rows, varcorr_block, emm_rows, jsonable
# emmeans switches to asymptotic df above 3,000 observations unless told otherwise.
emm_options(lmer.df = "satterthwaite", lmerTest.limit = 1e6, pbkrtest.limit = 1e6)

CONTROLS <- list(
  bobyqa = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5, rhoend = 1e-12)),
  Nelder_Mead = lmerControl(optimizer = "Nelder_Mead",
                            optCtrl = list(maxfun = 1e5, FtolAbs = 1e-12, FtolRel = 1e-15, XtolRel = 1e-10)),
  nloptwrap = TIGHT_CONTROL
)
CONTROLS_TEXT <- list(
  bobyqa = "lmerControl(optimizer = 'bobyqa', optCtrl = list(maxfun = 1e5, rhoend = 1e-12))",
  Nelder_Mead = paste("lmerControl(optimizer = 'Nelder_Mead', optCtrl = list(maxfun = 1e5, FtolAbs = 1e-12,",
                      "FtolRel = 1e-15, XtolRel = 1e-10))"),
  nloptwrap = TIGHT_CONTROL_TEXT
)
KR_MAX_PARTICIPANTS <- 60

spec <- fromJSON(file.path(here, "models.json"), simplifyVector = FALSE)
args <- commandArgs(trailingOnly = TRUE)
models <- spec$models
if (length(args)) {
  if (length(args) == 1 && grepl("^[0-9]+$", args)) {
    models <- models[seq_len(min(length(models), as.integer(args)))]
  } else {
    models <- Filter(function(m) m$name %in% args, models)
  }
}
out_file <- file.path(here, if (length(args)) "corpus_subset.json" else "corpus.json")

# Character columns become factors with levels in C-locale order (the generator's labels are
# upper-case letters and digits, so this is also Python's sort order); first level = reference.
.data_cache <- new.env()
read_dataset <- function(name) {
  if (!is.null(.data_cache[[name]])) return(.data_cache[[name]])
  d <- read.csv(file.path(here, "data", paste0(name, ".csv")), stringsAsFactors = FALSE, na.strings = "NA")
  for (col in names(d)) {
    if (is.character(d[[col]])) d[[col]] <- factor(d[[col]], levels = sort(unique(d[[col]]), method = "radix"))
  }
  .data_cache[[name]] <- d
  d
}

criterion <- function(m) if (isREML(m)) REMLcrit(m) else deviance(m)

try_optimisers <- function(f, d, REML, label) {
  fits <- list()
  tried <- list()
  for (opt in names(CONTROLS)) {
    t0 <- proc.time()[["elapsed"]]
    w <- character()
    m <- tryCatch(
      withCallingHandlers(
        lme4::lmer(f, data = d, REML = REML, control = CONTROLS[[opt]]),
        warning = function(x) { w <<- c(w, trimws(conditionMessage(x))); invokeRestart("muffleWarning") },
        message = function(x) { w <<- c(w, trimws(conditionMessage(x))); invokeRestart("muffleMessage") }
      ),
      error = function(e) structure(list(msg = conditionMessage(e)), class = "fit_error")
    )
    if (inherits(m, "fit_error")) {
      tried[[opt]] <- list(optimizer = opt, criterion = NULL, error = m$msg)
      next
    }
    fits[[opt]] <- m
    tried[[opt]] <- list(
      optimizer = opt,
      criterion = criterion(m),
      theta = I(unname(getME(m, "theta"))),
      convergence_messages = I(as.character(m@optinfo$conv$lme4$messages)),
      optimizer_warnings = I(as.character(unlist(m@optinfo$warnings))),
      warnings = I(dedupe(w)),
      seconds = proc.time()[["elapsed"]] - t0
    )
  }
  list(fits = fits, tried = unname(tried))
}

record_model <- function(ms) {
  reset_log()
  label <- ms$name
  d <- read_dataset(ms$dataset)
  f <- as.formula(ms$formula)
  REML <- isTRUE(ms$REML)
  t0 <- proc.time()[["elapsed"]]
  opt <- try_optimisers(f, d, REML, label)
  if (!length(opt$fits)) {
    return(list(name = ms$name, dataset = ms$dataset, formula = ms$formula, REML = REML,
                error = opt$tried[[1]]$error, optimizers = opt$tried))
  }
  crits <- vapply(opt$fits, criterion, 0)
  won <- names(crits)[which.min(crits)]
  m <- capture(paste(label, "lmerTest refit"),
               lmerTest::lmer(f, data = d, REML = REML, control = CONTROLS[[won]]))
  s <- summary(m, ddf = "Satterthwaite")
  V <- as.matrix(vcov(m))
  a3 <- safely(paste(label, "anova type 3"), anova(m, type = 3, ddf = "Satterthwaite"))
  ll <- logLik(m)
  n_groups <- as.list(ngrps(m))
  rec <- list(
    name = ms$name, dataset = ms$dataset, formula = ms$formula, REML = REML,
    optimizer_won = won,
    optimizers = opt$tried,
    criterion = criterion(m),
    criterion_spread = max(crits) - min(crits),
    reml_criterion = if (REML) REMLcrit(m) else NULL,
    deviance = if (REML) NULL else deviance(m),
    logLik = as.numeric(ll), logLik_df = attr(ll, "df"), AIC = AIC(m), BIC = BIC(m),
    nobs = nobs(m), ngroups = n_groups,
    theta = I(unname(getME(m, "theta"))), theta_names = I(names(getME(m, "theta"))),
    sigma = sigma(m),
    is_singular = isSingular(m),
    fixed = coef_rows(coef(s)),
    vcov_terms = I(colnames(V)), vcov = unname(V),
    varcorr = varcorr_block(m),
    anova_type3 = anova_rows(a3),
    convergence_messages = I(as.character(m@optinfo$conv$lme4$messages))
  )
  if (isTRUE(ms$kenward_roger) && REML && n_groups[[1]] <= KR_MAX_PARTICIPANTS) {
    skr <- safely(paste(label, "summary KR"), summary(m, ddf = "Kenward-Roger"))
    akr <- safely(paste(label, "anova KR"), anova(m, type = 3, ddf = "Kenward-Roger"))
    vadj <- safely(paste(label, "vcovAdj"), as.matrix(pbkrtest::vcovAdj(m)))
    rec$fixed_kenward_roger <- if (!is.null(skr)) coef_rows(coef(skr)) else NULL
    rec$anova_type3_kenward_roger <- anova_rows(akr)
    rec$vcov_adjusted <- if (!is.null(vadj)) unname(vadj) else NULL
  }
  fac <- ms$emmeans
  if (!is.null(fac)) {
    e <- safely(paste(label, "emmeans"),
                emmeans(m, as.formula(paste("~", fac)), lmer.df = "satterthwaite"))
    if (!is.null(e)) {
      rec$emmeans_factor <- fac
      rec$emmeans_call <- paste0("emmeans(m, ~ ", fac, ", lmer.df = 'satterthwaite')")
      rec$emmeans <- emm_rows(e)
    }
    if (!is.null(rec$fixed_kenward_roger)) {
      ek <- safely(paste(label, "emmeans KR"),
                   emmeans(m, as.formula(paste("~", fac)), lmer.df = "kenward-roger"))
      if (!is.null(ek)) rec$emmeans_kenward_roger <- emm_rows(ek)
    }
  }
  rec$warnings <- I(dedupe(.log$warnings))
  rec$messages <- I(dedupe(.log$messages))
  rec$seconds <- proc.time()[["elapsed"]] - t0
  rec
}

started <- proc.time()[["elapsed"]]
records <- list()
for (i in seq_along(models)) {
  ms <- models[[i]]
  r <- tryCatch(record_model(ms), error = function(e) list(
    name = ms$name, dataset = ms$dataset, formula = ms$formula, REML = isTRUE(ms$REML),
    error = conditionMessage(e)))
  records[[ms$name]] <- r
  cat(sprintf("[%3d/%d] %-18s %6.1fs %-11s %s%s\n", i, length(models), ms$name,
              if (is.null(r$seconds)) NA_real_ else r$seconds,
              if (is.null(r$optimizer_won)) "-" else r$optimizer_won, ms$formula,
              if (!is.null(r$error)) paste(" ERROR:", r$error) else ""))
  flush.console()
}

res <- list(
  schema_version = 1L,
  case = "corpus",
  simulated = TRUE,
  description = paste("Generated corpus (generate.py, seed", spec$seed, "): every model of models.json fitted by",
                      "lme4 with the best of three tight optimisers, lmerTest (Satterthwaite; Kenward-Roger for",
                      "REML models with <= 60 participants), pbkrtest vcovAdj and emmeans."),
  generated_by = "tests/reference/corpus/fit_corpus.R",
  seed = spec$seed,
  software = list(
    R = paste(R.version$major, R.version$minor, sep = "."),
    lme4 = as.character(packageVersion("lme4")),
    lmerTest = as.character(packageVersion("lmerTest")),
    emmeans = as.character(packageVersion("emmeans")),
    pbkrtest = as.character(packageVersion("pbkrtest")),
    Matrix = as.character(packageVersion("Matrix")),
    minqa = as.character(packageVersion("minqa")),
    nloptr = as.character(packageVersion("nloptr")),
    jsonlite = as.character(packageVersion("jsonlite"))
  ),
  settings = list(
    contrasts = I(unname(options("contrasts")[[1]])),
    optimizers = CONTROLS_TEXT,
    selection = "lowest criterion (REML criterion or ML deviance) among the optimisers; refitted with lmerTest",
    ddf_fixed = "Satterthwaite (lmerTest summary)",
    anova = "lmerTest anova(m, type = 3, ddf = 'Satterthwaite'); Kenward-Roger likewise",
    kenward_roger = paste("REML models with <=", KR_MAX_PARTICIPANTS, "participants: summary(m, ddf = 'Kenward-Roger'),",
                          "anova(m, type = 3, ddf = 'Kenward-Roger'), pbkrtest::vcovAdj(m)"),
    emmeans = "emmeans(m, ~ factor, lmer.df = 'satterthwaite'), level 0.95, lmerTest.limit = pbkrtest.limit = 1e6",
    factor_levels = "character columns as factors with levels sort(unique(x), method = 'radix')"
  ),
  seconds = proc.time()[["elapsed"]] - started,
  models = records
)
path <- out_file
write_json(jsonable(res), path, digits = NA, auto_unbox = TRUE, pretty = FALSE,
           json_verbatim = TRUE, na = "null", null = "null")
n_err <- sum(vapply(records, function(r) !is.null(r$error), TRUE))
cat(sprintf("wrote %s: %d models (%d errors) in %.0f s\n", path, length(records), n_err, res$seconds))

# Writes lme4's own `sleepstudy` data (Belenky et al. 2003; REAL published data shipped with lme4,
# not simulated) to data.csv with columns Reaction, Days, Subject.  Run: Rscript make_data.R
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
data("sleepstudy", package = "lme4")
d <- data.frame(Reaction = sleepstudy$Reaction, Days = sleepstudy$Days,
                Subject = as.character(sleepstudy$Subject))
write.csv(d, file.path(here, "data.csv"), row.names = FALSE, quote = FALSE)

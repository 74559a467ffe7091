# Writes lme4's `Dyestuff2` data (Box & Tiao 1973, as shipped with lme4; not simulated) to data.csv
# with columns Batch, Yield.  Its random-intercept variance estimate is exactly 0 (singular fit).
# Run: Rscript make_data.R
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
data("Dyestuff2", package = "lme4")
d <- data.frame(Batch = as.character(Dyestuff2$Batch), Yield = Dyestuff2$Yield)
write.csv(d, file.path(here, "data.csv"), row.names = FALSE, quote = FALSE)

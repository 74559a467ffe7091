# Regenerates every tests/reference/<case>/expected.json from the committed data.csv files.
# Usage (from anywhere):  Rscript tests/reference/run_all.R [case ...]
# Each fit.R runs in its own R process; a compact summary is printed at the end.
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
cases <- commandArgs(trailingOnly = TRUE)
if (!length(cases)) {
  cases <- basename(dirname(Sys.glob(file.path(here, "*", "fit.R"))))
}
failed <- character()
for (cs in cases) {
  script <- file.path(here, cs, "fit.R")
  status <- system2(file.path(R.home("bin"), "Rscript"), shQuote(script))
  if (status != 0) failed <- c(failed, cs)
}

cat("\nSummary\n")
for (cs in cases) {
  path <- file.path(here, cs, "expected.json")
  if (!file.exists(path)) next
  j <- jsonlite::fromJSON(path, simplifyVector = FALSE)
  for (nm in names(j$models)) {
    r <- j$models[[nm]]
    crit <- if (isTRUE(r$REML)) sprintf("REML crit %.4f", r$reml_criterion) else sprintf("deviance %.4f", r$deviance)
    cat(sprintf("%-23s %-8s %-4s nobs=%-3d singular=%-5s warnings=%-2d %s | %s\n", cs, nm,
                if (isTRUE(r$REML)) "REML" else "ML", r$nobs, r$is_singular, length(r$warnings), crit, r$formula))
  }
  if (!is.null(j$lrt)) {
    cat(sprintf("%-23s LRT      Chisq=%.4f Df=%d p=%.4g\n", cs, j$lrt$Chisq, j$lrt$Df, j$lrt$p_value))
  }
}
if (length(failed)) {
  cat("FAILED:", failed, "\n")
  quit(status = 1)
}

# Reference fit: boundary / singular fit.  lme4's Dyestuff2, Yield ~ 1 + (1 | Batch), REML:
# the Batch variance is estimated as exactly 0 (theta = 0, isSingular TRUE).
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
source(file.path(here, "..", "_common.R"))

d <- read.csv(file.path(here, "data.csv"))
d$Batch <- factor(d$Batch)

formula <- "Yield ~ 1 + (1 | Batch)"
fit <- fit_and_record(formula, d, REML = TRUE)
if (!isTRUE(fit$record$is_singular)) stop("expected a singular fit")

res <- c(
  header("boundary", FALSE,
         "lme4's Dyestuff2 (shipped with lme4): random-intercept variance estimate exactly 0 (singular fit).",
         source = "lme4::Dyestuff2 (Box & Tiao 1973)"),
  list(formula = formula, primary_model = "main", models = list(main = fit$record))
)
write_expected(res, here)
short_summary("boundary", res)

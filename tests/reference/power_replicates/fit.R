# Reference fits: power-curve replicates, hip_abd_strength_n ~ visit_week * group + (1 | participant_id),
# REML, Satterthwaite t test of the interaction, one lmerTest fit per replicate. SIMULATED data.
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
source(file.path(here, "..", "_common.R"))

d <- read.csv(file.path(here, "data.csv"), colClasses = c(rep_seed = "character"))
formula <- hip_abd_strength_n ~ visit_week * group + (1 | participant_id)
replicates <- list()
for (key in unique(paste(d$cell, d$replicate))) {
  part <- d[paste(d$cell, d$replicate) == key, ]
  part$group <- factor(part$group)  # alphabetical levels, as patsy's treatment coding
  m <- lmerTest::lmer(formula, part, REML = TRUE, control = TIGHT_CONTROL)
  ct <- summary(m)$coefficients
  term <- paste0("visit_week:group", levels(part$group)[2])
  replicates[[length(replicates) + 1]] <- list(
    cell = part$cell[1], replicate = part$replicate[1], rep_seed = part$rep_seed[1], nobs = nrow(part),
    term = term, estimate = ct[term, "Estimate"], std_error = ct[term, "Std. Error"],
    df = ct[term, "df"], statistic = ct[term, "t value"], p_value = ct[term, "Pr(>|t|)"],
    theta = unname(getME(m, "theta")), sigma = sigma(m), reml_criterion = unname(REMLcrit(m))
  )
}
res <- c(
  header("power_replicates", TRUE, paste(
    "SIMULATED: ten replicates of each of three power-curve cells (ferber2011 8 per group x 3 visits;",
    "ferber2015 8 per group x 7 visits with dropout; clinic_multisite 6 per group x 4 visits, sides",
    "averaged, with dropout), each fitted by lmerTest with the tight optimiser settings.")),
  list(formula = deparse(formula), replicates = replicates)
)
# replicates.json, not expected.json: the per-model schema of tests/models/test_reference.py does not apply
write_json(jsonable(res), file.path(here, "replicates.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE,
           json_verbatim = TRUE, na = "null", null = "null")
cat("power_replicates:", length(replicates), "replicate fits written\n")

# Reference for the order of fixed-effect terms (lme4 1.1-31, lmerTest 3.1-3). SIMULATED data (the same
# data.csv as ../type3_multidf, written by its make_data.py).
#
# R keeps the formula's order of terms and puts them by degree (main effects, then two-way, then
# three-way interactions), where patsy groups terms by the numeric factors they involve. For formulas
# mixing numeric and factor terms in various orders (and an interaction written in the other order than
# its variables first appear: R names it visit:group, visit varying fastest), this records lme4's names(fixef(m)) (the order of
# summary, vcov and the coefficient table) and the row order of lmerTest's anova(m). A rank-deficient
# design (a collinear covariate, an empty cell) records lme4's message and the column it drops;
# drop_rows is the R condition of the rows left out of the data for that model.
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
source(file.path(here, "..", "_common.R"))

d <- read.csv(file.path(here, "data.csv"))
d$participant_id <- factor(d$participant_id)
d$group <- factor(d$group)
d$visit <- factor(d$visit)
d$side <- factor(d$side)

record <- function(formula, drop_rows = NULL) {
  reset_log()
  data <- if (is.null(drop_rows)) d else d[!with(d, eval(parse(text = drop_rows))), ]
  m <- capture(formula, lmerTest::lmer(as.formula(formula), data = data, REML = TRUE, control = TIGHT_CONTROL))
  X_full <- model.matrix(lme4::nobars(as.formula(formula)), data = data)
  list(
    formula = formula, drop_rows = drop_rows,
    fixef_names = I(names(fixef(m))),
    fixef = I(unname(fixef(m))),
    vcov_names = I(colnames(vcov(m))),
    anova_terms = I(rownames(capture(formula, anova(m, type = 3)))),
    dropped_columns = I(setdiff(colnames(X_full), names(fixef(m)))),
    messages = I(dedupe(.log$messages)),
    warnings = I(dedupe(.log$warnings))
  )
}

formulas <- c(
  "pain_vas ~ group * week + (1 | participant_id)",
  "pain_vas ~ week * group + (1 | participant_id)",
  "pain_vas ~ age_years + group + week + side + (1 | participant_id)",
  "pain_vas ~ group + age_years + week:group + week + (1 | participant_id)",
  "pain_vas ~ group * side * week + (1 | participant_id)",
  "pain_vas ~ week + visit * side + age_years + (1 + week | participant_id)",
  "pain_vas ~ visit + group + group:visit + (1 | participant_id)",
  "pain_vas ~ age_years + week:group + (1 | participant_id)",
  "pain_vas ~ 0 + group + week + (1 | participant_id)",
  "pain_vas ~ week + group + I(2 * week) + (1 | participant_id)"
)
models <- lapply(formulas, record)
# An empty cell: no HOME participant at week 8, so visitV8:groupHOME is aliased.
models[[length(models) + 1]] <- record("pain_vas ~ visit * group + (1 | participant_id)",
                                       drop_rows = "group == 'HOME' & visit == 'V8'")

write_expected(list(
  case = "term_order", schema_version = SCHEMA_VERSION, simulated = TRUE,
  software = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                  lmerTest = as.character(packageVersion("lmerTest"))),
  control = TIGHT_CONTROL_TEXT,
  models = models
), here)
# Not expected.json: these records are read by their own test, not the generic tests/models/test_reference.py.
invisible(file.rename(file.path(here, "expected.json"), file.path(here, "term_order.json")))
cat("term_order: wrote term_order.json\n")

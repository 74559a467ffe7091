# Shared helpers for the R reference fits (sourced by every <case>/fit.R).
#
# Each fit.R reads its data.csv, fits one or more lmer models with lmerTest and calls
# `record_model()` to collect every quantity the Python engine is tested against, then
# `write_expected()` to write expected.json.  See README.md for the JSON schema.
#
# R is needed only to regenerate expected.json; the Python tests read the committed files.

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(emmeans)
  library(jsonlite)
  library(pbkrtest)
})

options(contrasts = c("contr.treatment", "contr.poly"))
emm_options(lmer.df = "satterthwaite")

SCHEMA_VERSION <- 1L

# Tight optimiser tolerances so that the recorded values are the optimum to ~1e-8 rather than
# lme4's default stopping point (xtol_abs = ftol_abs = 1e-8 on the deviance scale).  How far the
# default settings land from this optimum is recorded per model under "optimum_check".
TIGHT_CONTROL <- lmerControl(
  optimizer = "nloptwrap",
  optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14, xtol_rel = 0, ftol_rel = 0, maxeval = 1e5)
)
TIGHT_CONTROL_TEXT <- paste(
  "lmerControl(optimizer = 'nloptwrap', optCtrl = list(algorithm = NLOPT_LN_BOBYQA,",
  "xtol_abs = 1e-12, ftol_abs = 1e-14, xtol_rel = 0, ftol_rel = 0, maxeval = 1e5))"
)

R2_METHOD <- paste(
  "Nakagawa R2 with the Johnson (2014) extension for random slopes, computed by hand in R:",
  "var_fixed = stats::var(as.vector(X %*% beta)) (n - 1 denominator, X = fixed-effects model matrix);",
  "var_random = sum over random-effect terms k of mean_i(z_ik' Sigma_k z_ik), where z_ik is row i of",
  "term k's random-effects model matrix (getME(m, 'mmList')) and Sigma_k its estimated covariance",
  "(for a random intercept this is just the intercept variance);",
  "var_resid = sigma^2; marginal = var_fixed / (var_fixed + var_random + var_resid);",
  "conditional = (var_fixed + var_random) / (var_fixed + var_random + var_resid)."
)

ICC_METHOD <- paste(
  "Only for models whose sole random-effect term is a random intercept:",
  "icc = var_intercept / (var_intercept + sigma^2); null otherwise."
)

# --------------------------------------------------------------------------------------------
# Locating the case folder and reading data
# --------------------------------------------------------------------------------------------

case_dir <- function() {
  args <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", args[grep("^--file=", args)])
  if (length(f) == 1) return(dirname(normalizePath(f)))
  normalizePath(getwd())
}

# --------------------------------------------------------------------------------------------
# Warning / message capture
# --------------------------------------------------------------------------------------------

.log <- new.env()
.log$warnings <- character()
.log$messages <- character()

reset_log <- function() {
  .log$warnings <- character()
  .log$messages <- character()
}

capture <- function(label, expr) {
  withCallingHandlers(
    expr,
    warning = function(w) {
      .log$warnings <- c(.log$warnings, paste0(label, ": ", trimws(conditionMessage(w))))
      invokeRestart("muffleWarning")
    },
    message = function(m) {
      if (!grepl("^Computing profile confidence intervals", conditionMessage(m)))
        .log$messages <- c(.log$messages, paste0(label, ": ", trimws(conditionMessage(m))))
      invokeRestart("muffleMessage")
    }
  )
}

# Collapse repeated identical lines into "text [xN]".
dedupe <- function(x) {
  if (!length(x)) return(character())
  u <- unique(x)
  n <- vapply(u, function(v) sum(x == v), 0L)
  ifelse(n > 1, paste0(u, " [x", n, "]"), u)
}

safely <- function(label, expr) {
  tryCatch(capture(label, expr), error = function(e) {
    .log$warnings <- c(.log$warnings, paste0(label, ": ERROR: ", trimws(conditionMessage(e))))
    NULL
  })
}

# --------------------------------------------------------------------------------------------
# JSON with full-precision doubles
# --------------------------------------------------------------------------------------------
# jsonlite's digits = NA prints 15 significant digits, which does not always round-trip a double.
# Numbers are therefore pre-formatted with the shortest of %.15g / %.16g / %.17g that parses back
# to the identical double and inserted verbatim.  Length-1 numeric vectors become scalars unless
# wrapped in I(); matrices become row-major lists of lists.

.fmt_num <- function(x) {
  vapply(as.numeric(x), function(v) {
    if (is.na(v)) return("null")
    if (!is.finite(v)) return(if (v > 0) "\"Inf\"" else "\"-Inf\"")
    s <- NA_character_
    for (d in 15:17) {
      s <- sprintf(paste0("%.", d, "g"), v)
      if (as.numeric(s) == v) break
    }
    s
  }, "")
}

.num_json <- function(x, box) {
  s <- .fmt_num(x)
  if (length(x) == 1 && !box) structure(s, class = "json")
  else structure(paste0("[", paste(s, collapse = ", "), "]"), class = "json")
}

jsonable <- function(x) {
  if (is.null(x)) return(NULL)
  if (is.data.frame(x)) stop("convert data frames to row lists first")
  if (is.matrix(x) && is.numeric(x)) {
    return(lapply(seq_len(nrow(x)), function(i) .num_json(unname(x[i, ]), TRUE)))
  }
  if (is.list(x)) {
    out <- lapply(x, jsonable)
    names(out) <- names(x)
    return(out)
  }
  if (is.numeric(x)) return(.num_json(unname(x), inherits(x, "AsIs") || length(x) != 1))
  if (is.character(x) || is.logical(x)) {
    if (inherits(x, "AsIs") || length(x) != 1) return(I(unname(unclass(x))))
    return(unname(x))
  }
  x
}

write_expected <- function(res, dir) {
  path <- file.path(dir, "expected.json")
  write_json(jsonable(res), path, digits = NA, auto_unbox = TRUE, pretty = TRUE,
             json_verbatim = TRUE, na = "null", null = "null")
  invisible(path)
}

# --------------------------------------------------------------------------------------------
# Extraction helpers
# --------------------------------------------------------------------------------------------

coef_rows <- function(ct) {
  lapply(seq_len(nrow(ct)), function(i) list(
    term = rownames(ct)[i],
    estimate = ct[i, "Estimate"],
    std_error = ct[i, "Std. Error"],
    df = ct[i, "df"],
    statistic = ct[i, "t value"],
    p_value = ct[i, "Pr(>|t|)"]
  ))
}

anova_rows <- function(a) {
  if (is.null(a) || nrow(a) == 0) return(list())
  lapply(seq_len(nrow(a)), function(i) list(
    term = rownames(a)[i],
    sum_sq = a[i, "Sum Sq"],
    mean_sq = a[i, "Mean Sq"],
    num_df = a[i, "NumDF"],
    den_df = a[i, "DenDF"],
    F = a[i, "F value"],
    p_value = a[i, "Pr(>F)"]
  ))
}

ci_rows <- function(ci, keep = NULL, warnings = NULL) {
  if (is.null(ci)) return(NULL)
  rn <- rownames(ci)
  if (!is.null(keep)) rn <- rn[rn %in% keep]
  lapply(rn, function(p) {
    row <- list(parameter = p, lower = ci[p, 1], upper = ci[p, 2])
    if (!is.null(warnings)) {
      # TRUE when a profiling warning names this parameter (e.g. "non-monotonic profile for ...",
      # "bad spline fit for ...: falling back to linear interpolation"): treat as approximate.
      pw <- warnings[grepl("confint profile", warnings, fixed = TRUE)]
      row$profile_warning <- any(endsWith(pw, paste0("for ", p)) |
                                 grepl(paste0("for ", p, ":"), pw, fixed = TRUE))
    }
    row
  })
}

varcorr_block <- function(m) {
  vc <- VarCorr(m)
  groups <- lapply(names(vc), function(g) {
    v <- vc[[g]]
    sds <- attr(v, "stddev")
    cr <- attr(v, "correlation")
    list(
      group = g,
      factor = sub("\\.[0-9]+$", "", g),
      terms = I(names(sds)),
      sd = I(unname(sds)),
      variance = I(unname(sds^2)),
      corr = if (length(sds) > 1) unname(as.matrix(cr)) else NULL
    )
  })
  list(groups = groups, sigma = sigma(m))
}

nakagawa_r2 <- function(m) {
  X <- getME(m, "X")
  vf <- var(as.vector(X %*% fixef(m)))
  vc <- VarCorr(m)
  mm <- getME(m, "mmList")
  stopifnot(length(mm) == length(vc))
  vr_terms <- vapply(seq_along(vc), function(k) {
    Z <- as.matrix(mm[[k]])
    S <- as.matrix(vc[[k]])
    attributes(S) <- attributes(S)[c("dim", "dimnames")]
    mean(rowSums((Z %*% S) * Z))
  }, 0)
  vr <- sum(vr_terms)
  ve <- sigma(m)^2
  list(
    marginal = vf / (vf + vr + ve),
    conditional = (vf + vr) / (vf + vr + ve),
    var_fixed = vf,
    var_random = vr,
    var_random_by_term = I(unname(vr_terms)),
    var_resid = ve
  )
}

icc_value <- function(m) {
  cnms <- getME(m, "cnms")
  if (length(cnms) == 1 && identical(cnms[[1]], "(Intercept)")) {
    v <- as.numeric(VarCorr(m)[[1]])
    return(v / (v + sigma(m)^2))
  }
  NULL
}

optimum_check <- function(m, formula, data, REML) {
  d <- capture("default-control refit", lme4::lmer(formula, data = data, REML = REML))
  crit_tight <- if (REML) REMLcrit(m) else deviance(m)
  crit_def <- if (REML) REMLcrit(d) else deviance(d)
  b <- capture("bobyqa cross-check refit", lme4::lmer(
    formula, data = data, REML = REML,
    control = lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
  ))
  crit_b <- if (REML) REMLcrit(b) else deviance(b)
  list(
    note = paste("Recorded fit uses tight optimiser tolerances. *_default: differences (refit with",
                 "lme4's default lmerControl() minus recorded). *_bobyqa: the same for an independent",
                 "refit with minqa::bobyqa(rhoend = 1e-12), a check that the recorded fit is the optimum."),
    theta_default = I(unname(getME(d, "theta"))),
    max_abs_diff_theta = max(abs(getME(d, "theta") - getME(m, "theta"))),
    max_abs_diff_fixed = max(abs(fixef(d) - fixef(m))),
    criterion_diff = crit_def - crit_tight,
    max_abs_diff_theta_bobyqa = max(abs(getME(b, "theta") - getME(m, "theta"))),
    max_abs_diff_fixed_bobyqa = max(abs(fixef(b) - fixef(m))),
    criterion_diff_bobyqa = crit_b - crit_tight
  )
}

# Fit one model and collect everything.  `formula` is the string written to the JSON and used
# for fitting.  Returns list(model = <lmerModLmerTest>, record = <list for JSON>).
fit_and_record <- function(formula, data, REML = TRUE, profile = TRUE, kenward_roger = REML,
                           label = "model") {
  reset_log()
  f <- as.formula(formula)
  m <- capture(paste(label, "fit"), lmerTest::lmer(f, data = data, REML = REML, control = TIGHT_CONTROL))
  conv_msgs <- m@optinfo$conv$lme4$messages

  s <- summary(m, ddf = "Satterthwaite")
  fixed <- coef_rows(coef(s))

  fixed_kr <- NULL
  if (kenward_roger) {
    skr <- safely(paste(label, "Kenward-Roger"), summary(m, ddf = "Kenward-Roger"))
    if (!is.null(skr)) fixed_kr <- coef_rows(coef(skr))
  }

  V <- as.matrix(vcov(m))
  a3 <- safely(paste(label, "anova type 3"), anova(m, type = 3, ddf = "Satterthwaite"))

  ci_prof <- NULL
  if (profile) {
    ci_prof <- safely(paste(label, "confint profile"),
                      confint(m, method = "profile", oldNames = FALSE, delta.cutoff = 1 / 128))
  }
  ci_wald <- safely(paste(label, "confint Wald"), confint(m, method = "Wald", oldNames = FALSE))

  ll <- logLik(m)
  rec <- list(
    formula = formula,
    REML = REML,
    fixed = fixed,
    fixed_kenward_roger = fixed_kr,
    vcov_terms = I(colnames(V)),
    vcov = unname(V),
    varcorr = varcorr_block(m),
    theta = I(unname(getME(m, "theta"))),
    theta_names = I(names(getME(m, "theta"))),
    reml_criterion = if (REML) REMLcrit(m) else NULL,
    deviance = if (REML) NULL else deviance(m),
    logLik = as.numeric(ll),
    logLik_df = attr(ll, "df"),
    AIC = AIC(m),
    BIC = BIC(m),
    nobs = nobs(m),
    ngroups = as.list(ngrps(m)),
    is_singular = isSingular(m),
    anova_type3 = anova_rows(a3),
    confint_profile = ci_rows(ci_prof, warnings = .log$warnings),
    confint_wald = ci_rows(ci_wald, keep = names(fixef(m))),
    r2 = nakagawa_r2(m),
    icc = icc_value(m),
    optimum_check = optimum_check(m, f, data, REML)
  )
  rec$convergence_messages <- I(as.character(conv_msgs))
  rec$warnings <- I(dedupe(.log$warnings))
  rec$messages <- I(dedupe(.log$messages))
  list(model = m, record = rec)
}

# --------------------------------------------------------------------------------------------
# emmeans helpers
# --------------------------------------------------------------------------------------------

emm_rows <- function(emm) {
  s <- as.data.frame(summary(emm))
  est_cols <- c("emmean", "SE", "df", "lower.CL", "upper.CL")
  fac_cols <- setdiff(names(s), est_cols)
  lapply(seq_len(nrow(s)), function(i) {
    row <- list()
    for (fc in fac_cols) {
      v <- s[[fc]][i]
      row[[fc]] <- if (is.factor(v)) as.character(v) else v
    }
    row$emmean <- s$emmean[i]
    row$SE <- s$SE[i]
    row$df <- s$df[i]
    row$lower_CL <- s$lower.CL[i]
    row$upper_CL <- s$upper.CL[i]
    row
  })
}

contrast_rows <- function(con) {
  s <- as.data.frame(summary(con))
  by <- attr(summary(con), "by.vars")
  lapply(seq_len(nrow(s)), function(i) list(
    contrast = as.character(s$contrast[i]),
    by = if (length(by)) paste(vapply(by, function(b) as.character(s[[b]][i]), ""), collapse = ",") else NULL,
    estimate = s$estimate[i],
    SE = s$SE[i],
    df = s$df[i],
    t_ratio = s$t.ratio[i],
    p_value = s$p.value[i]
  ))
}

# --------------------------------------------------------------------------------------------
# Common header
# --------------------------------------------------------------------------------------------

header <- function(case, simulated, description, source = NULL) {
  list(
    schema_version = SCHEMA_VERSION,
    case = case,
    simulated = simulated,
    source = source,
    description = description,
    data_file = "data.csv",
    generated_by = paste0("tests/reference/", case, "/fit.R"),
    software = list(
      R = paste(R.version$major, R.version$minor, sep = "."),
      lme4 = as.character(packageVersion("lme4")),
      lmerTest = as.character(packageVersion("lmerTest")),
      emmeans = as.character(packageVersion("emmeans")),
      pbkrtest = as.character(packageVersion("pbkrtest")),
      Matrix = as.character(packageVersion("Matrix"))
    ),
    settings = list(
      contrasts = I(unname(options("contrasts")[[1]])),
      optimizer_control = TIGHT_CONTROL_TEXT,
      ddf_fixed = "Satterthwaite (lmerTest)",
      anova_type = 3,
      confint_level = 0.95,
      emmeans_lmer_df = "satterthwaite",
      confint_profile_note = paste(
        "confint(m, method = 'profile', oldNames = FALSE, delta.cutoff = 1/128), level 0.95: a 16x finer",
        "profile grid than lme4's default (1/8), because the limits come from spline interpolation of",
        "the profile and the default grid can be 4% off near a variance boundary (random_slope's slope",
        "SD: 0.04371 with 1/8, 0.04192 with 1/32, 0.04193 with 1/128). lme4 always profiles the ML",
        "deviance: for REML fits it first refits by ML (lme4:::devfun2 calls refitML), so profile",
        "intervals of a REML fit are those of the ML fit. Interval ends come from spline interpolation",
        "of the profile (agreement to ~1e-4 relative is realistic); rows with profile_warning = true",
        "were interpolated linearly after a non-monotonic profile and are approximate."
      )
    ),
    r2_method = R2_METHOD,
    icc_method = ICC_METHOD
  )
}

short_summary <- function(case, res) {
  for (nm in names(res$models)) {
    r <- res$models[[nm]]
    cat(sprintf("%-24s %-10s nobs=%-4d singular=%-5s warnings=%d  %s\n", case, nm, r$nobs,
                r$is_singular, length(r$warnings), r$formula))
  }
}

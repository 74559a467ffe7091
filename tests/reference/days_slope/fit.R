# Reference fit: days_slope.  A random slope on time in days (0 to ~60), where hipkit's first optimiser
# stopped at a false boundary (issue 11), and a singular random-slope fit for profile intervals.
#
# Every model is fitted with the suite's tight nloptwrap/BOBYQA settings (fit_and_record) and in
# addition by allFit (every optimiser installed here: bobyqa, Nelder-Mead, nlminb, L-BFGS-B, nloptwrap's
# BOBYQA and Nelder-Mead, at their default tolerances, maxfun 1e5); "criterion_best" is the smallest
# criterion of the tight fit and all of those, the value hipkit's may not exceed.
#
# Profile intervals, precisely: lme4's confint(method = "profile") interpolates a spline through a
# grid of the profile, which is off by up to ~1e-2 relative near a boundary.  "profile_roots" are the
# roots of the profile itself, found here by uniroot (tol 1e-11) on lme4's own deviance of
# (sd, cor, sigma) (lme4:::devfun2, the function profile() uses), minimised over the other
# parameters by minqa::bobyqa (rhoend 1e-12) from several starts, with the parameter's bound as the
# limit where the profile stays below the cutoff.
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
source(file.path(here, "..", "_common.R"))

d <- read.csv(file.path(here, "data.csv"))
d$group <- factor(d$group, levels = c("HIP", "KNEE"))

best_of_allfit <- function(formula, data, REML) {
  m0 <- suppressWarnings(suppressMessages(lme4::lmer(as.formula(formula), data = data, REML = REML)))
  af <- suppressWarnings(suppressMessages(allFit(m0, data = data, verbose = FALSE, maxfun = 1e5)))
  ok <- !vapply(af, inherits, NA, what = "error")
  crit <- vapply(af[ok], function(f) if (REML) REMLcrit(f) else deviance(f), 0)
  list(criteria = as.list(crit), best = names(crit)[which.min(crit)], criterion = min(crit),
       theta = I(unname(getME(af[ok][[which.min(crit)]], "theta"))))
}

profile_roots <- function(m, level = 0.95) {
  mML <- if (isREML(m)) refitML(m) else m
  dd <- lme4:::devfun2(mML, useSc = TRUE, signames = FALSE)
  opt <- attr(dd, "optimum")
  base <- attr(dd, "basedev")
  np <- length(opt) - length(fixef(mML))
  est <- opt[seq_len(np)]
  nm <- names(est)
  is_cor <- startsWith(nm, "cor_")
  lower <- ifelse(is_cor, -1, 0)
  upper <- ifelse(is_cor, 1, Inf)
  lower[nm == "sigma"] <- 1e-10
  cutoff <- qchisq(level, 1)
  # Every search runs on u = p / pscale (SDs and sigma over their size at the optimum, correlations as
  # they are), so that one bobyqa trust radius suits an intercept SD of 20 and a slope SD of 0.02.
  pscale <- ifelse(is_cor, 1, pmax(abs(est), 1e-3 * est[nm == "sigma"]))
  search <- function(fun, start, lo, up, sc) {
    u0 <- pmin(pmax(start / sc, lo / sc + 1e-4), up / sc - 1e-4)
    r <- tryCatch(minqa::bobyqa(u0, function(u) fun(u * sc), lower = lo / sc, upper = up / sc,
                                control = list(rhobeg = 0.05, rhoend = 1e-12, maxfun = 1e5)),
                  error = function(e) NULL)
    if (is.null(r) || !is.finite(r$fval)) return(list(fval = Inf, par = start))
    list(fval = r$fval, par = r$par * sc)
  }
  # The optimum itself, polished (lme4's ML refit stops at its default tolerances).
  pol <- search(function(p) dd(p), est, lower, upper, pscale)
  if (pol$fval < base) { base <- pol$fval; est <- setNames(pol$par, nm) }
  prof <- function(j, s) {
    f <- function(z) { p <- est; p[j] <- s; p[-j] <- z; dd(p) }
    z0 <- est[-j]
    starts <- list(z0,
                   ifelse(is_cor[-j], 0, pmax(z0, 1e-2 * pscale[-j]) * 1.5),
                   ifelse(is_cor[-j], 0.9, pmax(z0, 1e-2 * pscale[-j]) * 0.7),
                   ifelse(is_cor[-j], -0.9, pmax(z0, 1e-2 * pscale[-j])))
    best <- Inf
    for (st in starts) best <- min(best, search(f, st, lower[-j], upper[-j], pscale[-j])$fval)
    best - base - cutoff
  }
  out <- list()
  for (j in seq_len(np)) {
    scale <- max(abs(est[j]), 1e-3)
    g <- function(s) prof(j, s)
    hi <- est[j] + 0.25 * scale
    while (hi < upper[j] && g(min(hi, upper[j])) < 0) hi <- est[j] + 2 * (hi - est[j])
    hi <- min(hi, upper[j])
    up <- if (g(hi) < 0) hi else uniroot(g, c(est[j], hi), tol = 1e-11)$root
    lo <- max(est[j] - 0.25 * scale, lower[j])
    while (lo > lower[j] && g(lo) < 0) lo <- max(est[j] - 2 * (est[j] - lo), lower[j])
    low <- if (g(lo) < 0) lo else if (lo == est[j]) lo else uniroot(g, c(lo, est[j]), tol = 1e-11)$root
    out[[length(out) + 1]] <- list(parameter = nm[j], estimate = unname(est[j]), lower = unname(low),
                                   upper = unname(up))
  }
  list(ml_deviance = base, cutoff = cutoff, rows = out)
}

models <- list(
  slope_days = list(cohort = "slope", time = "days_from_baseline", REML = TRUE),
  slope_days_ml = list(cohort = "slope", time = "days_from_baseline", REML = FALSE),
  slope_weeks = list(cohort = "slope", time = "weeks_from_baseline", REML = TRUE),
  singular_days = list(cohort = "singular", time = "days_from_baseline", REML = TRUE)
)
recs <- list()
for (nm in names(models)) {
  s <- models[[nm]]
  dat <- d[d$cohort == s$cohort, ]
  formula <- sprintf("hip_abd_strength_n ~ %s * group + (1 + %s | participant_id)", s$time, s$time)
  fit <- fit_and_record(formula, dat, REML = s$REML, label = nm)
  rec <- fit$record
  rec$cohort <- s$cohort
  rec$criterion <- if (s$REML) rec$reml_criterion else rec$deviance
  rec$allfit <- best_of_allfit(formula, dat, s$REML)
  rec$criterion_best <- min(rec$criterion, rec$allfit$criterion)
  if (nm %in% c("singular_days", "slope_days")) rec$profile_roots <- profile_roots(fit$model)
  recs[[nm]] <- rec
}

res <- c(
  header("days_slope", TRUE,
         paste("Random slope on time in days (and the same data in weeks); a singular random-slope fit",
               "with precise profile-interval roots.")),
  list(primary_model = "slope_days", models = recs)
)
# days_slope.json, not expected.json: data.csv holds two cohorts, and the models are fitted to one each
# (tests/models/test_optimise.py reads it; tests/models/test_reference.py fits expected.json to all rows).
write_json(jsonable(res), file.path(here, "days_slope.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE,
           json_verbatim = TRUE, na = "null", null = "null")
short_summary("days_slope", res)

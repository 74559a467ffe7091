# R reference values for hipkit.mmrm (the mixed model for repeated measures, unstructured covariance).
#
# For each SIMULATED design <case>.csv written by make_data.py, fits
#   nlme::gls(y ~ [baseline +] visit * group, correlation = corSymm(form = ~ as.integer(visit) | id),
#             weights = varIdent(form = ~ 1 | visit), method = "REML" / "ML", na.action = na.omit)
# and records the fixed effects, their vcov, logLik, the fitted covariance matrix across visits and
# Satterthwaite df.
#
# nlme gives no Satterthwaite df for gls. They are derived here as lmerTest and the mmrm package do
# (Satterthwaite 1946; Christensen 2011): for a contrast L, with theta the log-Cholesky parameters of
# the unstructured covariance Sigma = L L' (theta = log diag(L) then the lower triangle by column),
#   df = 2 (L Phi L')^2 / (g' A g),  Phi(theta) = (X' V(theta)^-1 X)^-1,  g = d(L Phi L')/d theta,
#   A = inverse of the Hessian of -logLik(theta) (REML or ML, profiled over beta),
# with the gradient and Hessian by numDeriv (Richardson extrapolation) at nlme's estimates. The
# log-likelihood is written out below (make_model()$loglik); at nlme's optimum its value is recorded
# (loglik) next to nlme's logLik() (loglik_nlme): they agree, so nlme's REML logLik has no log|X'X| term.
# The df are invariant to the parameterisation of the covariance at the optimum.
#
# glmmTMB(y ~ ... + us(0 + visit | id), dispformula = ~0) is recorded as a second opinion when installed.
#
# Usage: Rscript tests/reference/mmrm/fit.R [case ...]   (writes mmrm_expected.json next to this script;
# with case names, only those cases)
suppressPackageStartupMessages({
  library(nlme)
  library(numDeriv)
  library(jsonlite)
})
options(contrasts = c("contr.treatment", "contr.poly"))
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
has_tmb <- requireNamespace("glmmTMB", quietly = TRUE)

CASES <- list(
  two_arm_monotone = "y ~ baseline + visit * group",
  three_arm_intermittent = "y ~ visit * group",
  small_three_visits = "y ~ baseline + visit * group",
  six_visits_large = "y ~ baseline + visit * group",
  three_arm_covariate = "y ~ baseline + visit * group",
  complete_two_arm = "y ~ baseline + visit * group"
)
only <- commandArgs(trailingOnly = TRUE)
if (length(only)) CASES <- CASES[only]

sigma_from_gls <- function(fit, K, lev) {
  r <- coef(fit$modelStruct$corStruct, unconstrained = FALSE)
  R <- diag(K)
  R[lower.tri(R)] <- r
  R <- R + t(R) - diag(K)
  ratio <- coef(fit$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)[lev]
  s <- fit$sigma * ratio
  R * outer(s, s)
}

theta_of <- function(S) {
  L <- t(chol(S))
  c(log(diag(L)), L[lower.tri(L)])
}
sigma_of <- function(theta, K) {
  L <- diag(exp(theta[1:K]), K)
  L[lower.tri(L)] <- theta[-(1:K)]
  L %*% t(L)
}

make_model <- function(d, X, K) {
  subj <- split(seq_len(nrow(d)), d$id, drop = TRUE)
  vis <- as.integer(d$visit)
  N <- nrow(X)
  p <- ncol(X)
  parts <- function(theta) {
    S <- sigma_of(theta, K)
    XtVX <- matrix(0, p, p)
    XtVy <- numeric(p)
    ytVy <- 0
    logdet <- 0
    for (rows in subj) {
      v <- vis[rows]
      C <- chol(S[v, v, drop = FALSE])
      Xi <- backsolve(C, X[rows, , drop = FALSE], transpose = TRUE)
      yi <- backsolve(C, d$y[rows], transpose = TRUE)
      XtVX <- XtVX + crossprod(Xi)
      XtVy <- XtVy + crossprod(Xi, yi)
      ytVy <- ytVy + sum(yi^2)
      logdet <- logdet + 2 * sum(log(diag(C)))
    }
    list(XtVX = XtVX, XtVy = XtVy, ytVy = ytVy, logdet = logdet)
  }
  loglik <- function(theta, reml) {
    q <- parts(theta)
    beta <- solve(q$XtVX, q$XtVy)
    rss <- q$ytVy - sum(beta * q$XtVy)
    if (reml) {
      -0.5 * ((N - p) * log(2 * pi) + q$logdet + as.numeric(determinant(q$XtVX)$modulus) + rss)
    } else {
      -0.5 * (N * log(2 * pi) + q$logdet + rss)
    }
  }
  covbeta <- function(theta) solve(parts(theta)$XtVX)
  list(loglik = loglik, covbeta = covbeta)
}

satterthwaite <- function(model, theta, A, Lmat) {
  apply(Lmat, 1, function(l) {
    f <- function(th) as.numeric(t(l) %*% model$covbeta(th) %*% l)
    v <- f(theta)
    g <- numDeriv::grad(f, theta)
    c(variance = v, df = 2 * v^2 / as.numeric(t(g) %*% A %*% g))
  })
}

out <- list(schema = 1L, R_version = R.version.string, nlme_version = as.character(packageVersion("nlme")),
            numDeriv_version = as.character(packageVersion("numDeriv")),
            glmmTMB_version = if (has_tmb) as.character(packageVersion("glmmTMB")) else NULL,
            label = "SIMULATED data (make_data.py); not real participants", cases = list())

for (cs in names(CASES)) {
  d <- read.csv(file.path(here, paste0(cs, ".csv")))
  d <- d[!is.na(d$y), ]
  lev <- as.character(sort(unique(d$visit_week)))
  d$visit <- factor(d$visit_week, levels = as.numeric(lev), labels = lev)
  d$group <- factor(d$group)
  d$id <- factor(d$participant_id)
  d <- d[order(d$id, d$visit), ]
  K <- nlevels(d$visit)
  form <- as.formula(CASES[[cs]])
  X <- model.matrix(form, d)
  model <- make_model(d, X, K)
  G <- levels(d$group)
  # Means at each visit by group (covariates at their mean over the rows used) and the differences
  # from the first group at each visit.
  cn <- colnames(X)
  mean_row <- function(v, g) {
    l <- setNames(numeric(length(cn)), cn)
    l["(Intercept)"] <- 1
    if ("baseline" %in% cn) l["baseline"] <- mean(d$baseline)
    if (v != lev[1]) l[paste0("visit", v)] <- 1
    if (g != G[1]) l[paste0("group", g)] <- 1
    if (v != lev[1] && g != G[1]) l[paste0("visit", v, ":group", g)] <- 1
    l
  }
  means_L <- do.call(rbind, lapply(lev, function(v) do.call(rbind, lapply(G, function(g) mean_row(v, g)))))
  means_key <- expand.grid(group = G, visit = lev, stringsAsFactors = FALSE)
  diffs_L <- do.call(rbind, lapply(lev, function(v) do.call(rbind, lapply(G[-1], function(g) mean_row(v, g) - mean_row(v, G[1])))))
  diffs_key <- expand.grid(group = G[-1], visit = lev, stringsAsFactors = FALSE)
  res <- list(formula = CASES[[cs]], nobs = nrow(d), n_subjects = nlevels(droplevels(d$id)), visits = lev,
              groups = G, terms = cn, fits = list())
  for (method in c("REML", "ML")) {
    fit <- gls(form, data = d, correlation = corSymm(form = ~ as.integer(visit) | id),
               weights = varIdent(form = ~ 1 | visit), method = method, na.action = na.omit,
               control = glsControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10, msTol = 1e-12,
                                    returnObject = TRUE))
    S <- sigma_from_gls(fit, K, lev)
    theta <- theta_of(S)
    reml <- method == "REML"
    ll <- model$loglik(theta, reml)
    H <- numDeriv::hessian(function(th) -model$loglik(th, reml), theta)
    A <- solve(H)
    gr <- numDeriv::grad(function(th) model$loglik(th, reml), theta)
    V <- unname(vcov(fit))
    beta <- unname(coef(fit))
    se <- sqrt(diag(V))
    sat_fixed <- satterthwaite(model, theta, A, diag(length(beta)))
    est_tab <- function(Lm, key) {
      sat <- satterthwaite(model, theta, A, Lm)
      est <- as.numeric(Lm %*% beta)
      se_l <- sqrt(sat["variance", ])
      df_l <- sat["df", ]
      tval <- est / se_l
      data.frame(key, estimate = est, std_error = se_l, df = df_l, t_value = tval,
                 p_value = 2 * pt(-abs(tval), df_l), conf_low = est - qt(0.975, df_l) * se_l,
                 conf_high = est + qt(0.975, df_l) * se_l, row.names = NULL)
    }
    tval <- beta / se
    entry <- list(
      method = method,
      fixed = data.frame(term = cn, estimate = beta, std_error = se, df = sat_fixed["df", ],
                         t_value = tval, p_value = 2 * pt(-abs(tval), sat_fixed["df", ])),
      vcov = V,
      covariance = unname(S),
      theta = theta,
      loglik_nlme = as.numeric(logLik(fit)),
      loglik = ll,
      loglik_gradient_max = max(abs(gr)),
      AIC_nlme = AIC(fit), BIC_nlme = BIC(fit),
      means = est_tab(means_L, means_key),
      diffs = est_tab(diffs_L, diffs_key)
    )
    if (has_tmb) {
      tmb <- try(glmmTMB::glmmTMB(update(form, . ~ . + us(0 + visit | id)), data = d, dispformula = ~0,
                                  REML = reml), silent = TRUE)
      if (!inherits(tmb, "try-error")) {
        entry$glmmTMB <- list(estimate = unname(glmmTMB::fixef(tmb)$cond),
                              loglik = as.numeric(logLik(tmb)),
                              covariance = unname(glmmTMB::VarCorr(tmb)$cond$id[, ]))
      }
    }
    res$fits[[method]] <- entry
  }
  out$cases[[cs]] <- res
  cat(sprintf("%-24s nobs=%d REML logLik %.6f (formula %.6f) ML logLik %.6f (formula %.6f)\n", cs, res$nobs,
              res$fits$REML$loglik_nlme, res$fits$REML$loglik, res$fits$ML$loglik_nlme, res$fits$ML$loglik))
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, matrix = "rowmajor", dataframe = "rows", pretty = TRUE),
           file.path(here, "mmrm_expected.json"))

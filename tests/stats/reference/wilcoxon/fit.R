# Reference values for hipkit.stats.signed_rank_test (SIMULATED data, generated here with set.seed).
# Run from this folder: Rscript fit.R  -> expected.json
# Each case stores the paired data (x = follow-up, y = baseline) and R's wilcox.test(x, y, paired = TRUE)
# with the default exact = NULL (exact when n < 50 nonzero differences without ties or zeros) and
# correct = TRUE (continuity correction of the normal approximation), for each alternative.
suppressPackageStartupMessages(library(jsonlite))
set.seed(20261202)

pair <- function(n, shift, digits = NULL, zeros = 0) {
  y <- rnorm(n, 50, 10)
  x <- y + rnorm(n, shift, 4)
  if (!is.null(digits)) { y <- round(y, digits); x <- round(x, digits) }
  if (zeros > 0) x[seq_len(zeros)] <- y[seq_len(zeros)]
  list(x = x, y = y)
}

cases <- list(
  small_exact = pair(12, 1.5),
  tiny_exact = pair(3, 2),
  all_positive_exact = list(x = c(5.1, 6.3, 7.2, 8.8, 9.1, 10.4), y = c(1, 1, 1, 1, 1, 1)),
  n49_exact = pair(49, 0.8),
  n50_normal = pair(50, 0.8),
  small_ties = pair(15, 1, digits = 0),
  small_zeros = pair(14, 1, zeros = 3),
  zeros_and_ties = pair(30, 0.5, digits = 0, zeros = 4),
  ties_after_zeros_small = list(x = c(3, 5, 5, 2, 8, 1, 4), y = c(3, 4, 4, 0, 6, 2, 4)),
  large_ties = pair(2000, 0.3, digits = 0),
  large_continuous = pair(5000, -0.1),
  centred_exact = pair(20, 0)
)

out <- list(simulated = TRUE, r_version = R.version.string,
            call = "wilcox.test(x, y, paired = TRUE, alternative = alt)  # exact = NULL, correct = TRUE",
            cases = list())
for (name in names(cases)) {
  d <- cases[[name]]
  res <- list(x = d$x, y = d$y, n_nonzero = sum(d$x - d$y != 0))
  for (alt in c("two.sided", "less", "greater")) {
    w <- suppressWarnings(wilcox.test(d$x, d$y, paired = TRUE, alternative = alt))
    res[[alt]] <- list(statistic = unname(w$statistic), p_value = w$p.value, method = w$method)
  }
  out$cases[[name]] <- res
}
write_json(out, "expected.json", auto_unbox = TRUE, digits = NA, pretty = TRUE)

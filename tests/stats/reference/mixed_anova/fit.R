# Reference values for hipkit.stats.mixed_anova (SIMULATED data from make_data.py).
# Run from this folder: Rscript fit.R  -> expected.json
# Sums of squares: sequential (aov with an Error stratum) and car::Anova type III, with GG epsilon.
suppressPackageStartupMessages({library(car); library(jsonlite)})
d <- read.csv("data.csv")
d$participant_id <- factor(d$participant_id)
d$group <- factor(d$group)
d$visit_week <- factor(d$visit_week)
fit <- aov(pain_vas ~ group * visit_week + Error(participant_id / visit_week), data = d)
s <- summary(fit)
b <- s[["Error: participant_id"]][[1]]
w <- s[["Error: participant_id:visit_week"]][[1]]
row <- function(tab, name) {
  i <- which(trimws(rownames(tab)) == name)
  list(F = tab[i, "F value"], num_df = tab[i, "Df"], den_df = tab["Residuals", "Df"], p = tab[i, "Pr(>F)"])
}
wide <- reshape(d[, c("participant_id", "group", "visit_week", "pain_vas")], idvar = c("participant_id", "group"),
                timevar = "visit_week", direction = "wide")
resp <- as.matrix(wide[, grep("^pain_vas", names(wide))])
options(contrasts = c("contr.sum", "contr.poly"))
mlm <- lm(resp ~ group, data = wide)
idata <- data.frame(visit_week = factor(sub("pain_vas.", "", colnames(resp))))
av <- Anova(mlm, idata = idata, idesign = ~visit_week, type = 3)
sa <- summary(av, multivariate = FALSE)
uni <- sa$univariate.tests
gg <- sa$pval.adjustments
out <- list(
  simulated = TRUE,
  r_version = R.version.string,
  car_version = as.character(packageVersion("car")),
  aov_sequential = list(group = row(b, "group"), visit_week = row(w, "visit_week"),
                        interaction = row(w, "group:visit_week")),
  car_type3 = list(
    visit_week = list(F = uni["visit_week", "F value"], p = uni["visit_week", "Pr(>F)"]),
    interaction = list(F = uni["group:visit_week", "F value"], p = uni["group:visit_week", "Pr(>F)"])
  ),
  gg_epsilon = unname(gg["visit_week", "GG eps"]),
  p_gg = list(visit_week = unname(gg["visit_week", "Pr(>F[GG])"]),
              interaction = unname(gg["group:visit_week", "Pr(>F[GG])"]))
)
write_json(out, "expected.json", auto_unbox = TRUE, digits = NA, pretty = TRUE)

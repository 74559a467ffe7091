"""Profiled REML/ML deviance of a linear mixed model with one grouping factor.

Follows the penalised least-squares formulation of lme4 (Bates, Maechler, Bolker & Walker 2015,
J Stat Softw 67(1), sections 3.4-3.6). With one grouping factor, Z is block diagonal and every
quantity of the sparse Cholesky factorisation decomposes into per-participant blocks:

    L_i L_i' = Lambda' Z_i'Z_i Lambda + I            (q x q, one per participant)
    R_ZX,i   = L_i^-1 Lambda' Z_i'X_i                 (q x p)
    c_u,i    = L_i^-1 Lambda' Z_i'y_i                 (q)
    R_X'R_X  = X'X - sum_i R_ZX,i' R_ZX,i             (p x p)
    c_beta   = R_X'^-1 (X'y - sum_i R_ZX,i' c_u,i),   beta = R_X^-1 c_beta
    r^2      = y'y - sum_i |c_u,i|^2 - |c_beta|^2     (penalised residual sum of squares)

    ML:   d(theta)   = log|L|^2 + n (1 + log(2 pi r^2 / n))
    REML: d_R(theta) = log|L|^2 + log|R_X|^2 + (n - p)(1 + log(2 pi r^2 / (n - p)))

The cross-products Z_i'Z_i, Z_i'X_i, Z_i'y_i are computed once (``Blocks``); each evaluation of the
deviance is a handful of batched q x q operations over all participants, with no Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Blocks", "make_blocks", "lambda_matrix", "Evaluation", "evaluate", "deviance_at"]

_LOG2PI = np.log(2.0 * np.pi)


@dataclass
class Blocks:
    """Sufficient statistics of the model: per-participant and total cross-products."""

    ZtZ: np.ndarray  # (G, q, q)
    ZtX: np.ndarray  # (G, q, p)
    Zty: np.ndarray  # (G, q)
    XtX: np.ndarray  # (p, p)
    Xty: np.ndarray  # (p,)
    yty: float
    n: int

    @property
    def q(self) -> int:
        """Number of random effects per participant."""
        return self.ZtZ.shape[1]

    @property
    def p(self) -> int:
        """Number of fixed-effect columns."""
        return self.XtX.shape[0]

    def __add__(self, other: "Blocks") -> "Blocks":
        """Blocks of the union of two disjoint row sets over the same participants (for partitions)."""
        return Blocks(
            self.ZtZ + other.ZtZ,
            self.ZtX + other.ZtX,
            self.Zty + other.Zty,
            self.XtX + other.XtX,
            self.Xty + other.Xty,
            self.yty + other.yty,
            self.n + other.n,
        )


def make_blocks(y: np.ndarray, X: np.ndarray, Z: np.ndarray, group: np.ndarray, n_groups: int) -> Blocks:
    """Per-participant cross-products in one vectorised pass (segment sums by group code)."""
    q, p = Z.shape[1], X.shape[1]
    ZtZ = np.empty((n_groups, q, q))
    ZtX = np.empty((n_groups, q, p))
    Zty = np.empty((n_groups, q))
    for a in range(q):
        za = Z[:, a]
        for b in range(a, q):
            ZtZ[:, a, b] = ZtZ[:, b, a] = np.bincount(group, weights=za * Z[:, b], minlength=n_groups)
        for b in range(p):
            ZtX[:, a, b] = np.bincount(group, weights=za * X[:, b], minlength=n_groups)
        Zty[:, a] = np.bincount(group, weights=za * y, minlength=n_groups)
    return Blocks(ZtZ=ZtZ, ZtX=ZtX, Zty=Zty, XtX=X.T @ X, Xty=X.T @ y, yty=float(y @ y), n=len(y))


def lambda_matrix(theta: np.ndarray, pattern: list[tuple[int, int]], q: int) -> np.ndarray:
    """The q x q lower-triangular relative covariance factor Lambda from theta."""
    lam = np.zeros((q, q))
    for value, (r, c) in zip(theta, pattern):
        lam[r, c] = value
    return lam


@dataclass
class Evaluation:
    """Everything computed at one value of theta."""

    theta: np.ndarray
    Lambda: np.ndarray
    L: np.ndarray  # (G, q, q) lower Cholesky factors
    RZX: np.ndarray  # (G, q, p)
    cu: np.ndarray  # (G, q)
    LX: np.ndarray  # (p, p) lower: R_X'R_X = LX LX'
    beta: np.ndarray
    pwrss: float  # r^2
    logdet_L: float  # log|L|^2
    logdet_RX: float  # log|R_X|^2
    n: int
    p: int

    def deviance(self, reml: bool) -> float:
        """Profiled deviance (REML criterion when ``reml``)."""
        if reml:
            nmp = self.n - self.p
            return self.logdet_L + self.logdet_RX + nmp * (1.0 + np.log(2.0 * np.pi * self.pwrss / nmp))
        return self.logdet_L + self.n * (1.0 + np.log(2.0 * np.pi * self.pwrss / self.n))

    def sigma(self, reml: bool) -> float:
        """Residual standard deviation at theta."""
        return float(np.sqrt(self.pwrss / ((self.n - self.p) if reml else self.n)))

    def cov_beta_unscaled(self) -> np.ndarray:
        """(R_X'R_X)^-1; multiply by sigma^2 for the covariance of the fixed effects."""
        inv = np.linalg.solve(self.LX, np.eye(self.p))
        return inv.T @ inv

    def conditional_modes(self) -> np.ndarray:
        """Random effects b_i = Lambda u_i, u_i = L_i'^-1 (c_u,i - R_ZX,i beta); shape (G, q)."""
        rhs = self.cu - self.RZX @ self.beta
        u = _solve_upper_from_lower(self.L, rhs)
        return u @ self.Lambda.T


def _solve_lower(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve L X = B for a batch of small lower-triangular L (forward substitution, vectorised)."""
    q = L.shape[1]
    if q == 1:
        return B / L[:, :1, :1] if B.ndim == 3 else B / L[:, 0, :1]
    X = np.empty_like(B)
    for i in range(q):
        acc = B[:, i].copy()
        for j in range(i):
            acc -= (L[:, i, j, None] if B.ndim == 3 else L[:, i, j]) * X[:, j]
        X[:, i] = acc / (L[:, i, i, None] if B.ndim == 3 else L[:, i, i])
    return X


def _solve_upper_from_lower(L: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve L' x = b (back substitution) for a batch of lower-triangular L and vectors b (G, q)."""
    q = L.shape[1]
    x = np.empty_like(b)
    for i in range(q - 1, -1, -1):
        acc = b[:, i].copy()
        for j in range(i + 1, q):
            acc -= L[:, j, i] * x[:, j]
        x[:, i] = acc / L[:, i, i]
    return x


def _cholesky_small(A: np.ndarray) -> np.ndarray:
    """Batched Cholesky of small symmetric positive-definite matrices."""
    q = A.shape[1]
    if q == 1:
        return np.sqrt(A)
    if q == 2:
        L = np.zeros_like(A)
        l11 = np.sqrt(A[:, 0, 0])
        l21 = A[:, 1, 0] / l11
        L[:, 0, 0] = l11
        L[:, 1, 0] = l21
        L[:, 1, 1] = np.sqrt(A[:, 1, 1] - l21 * l21)
        return L
    return np.linalg.cholesky(A)


def evaluate(theta: np.ndarray, blocks: Blocks, pattern: list[tuple[int, int]]) -> Evaluation:
    """Solve the penalised least-squares problem at ``theta`` (see the module docstring)."""
    q, p = blocks.q, blocks.p
    lam = lambda_matrix(theta, pattern, q)
    lt = lam.T
    A = lt @ blocks.ZtZ @ lam  # (G, q, q)
    idx = np.arange(q)
    A[:, idx, idx] += 1.0
    L = _cholesky_small(A)
    RZX = _solve_lower(L, lt @ blocks.ZtX)  # (G, q, p)
    cu = _solve_lower(L, blocks.Zty @ lam)  # (G, q): (Lambda' Zty_i) = Zty_i Lambda
    M = blocks.XtX - np.einsum("gqi,gqj->ij", RZX, RZX)
    LX = np.linalg.cholesky(M)
    rhs = blocks.Xty - np.einsum("gqi,gq->i", RZX, cu)
    cbeta = np.linalg.solve(LX, rhs)
    beta = np.linalg.solve(LX.T, cbeta)
    pwrss = blocks.yty - float(np.einsum("gq,gq->", cu, cu)) - float(cbeta @ cbeta)
    pwrss = max(pwrss, 1e-300)
    logdet_L = 2.0 * float(np.log(L[:, idx, idx]).sum())
    logdet_RX = 2.0 * float(np.log(np.diag(LX)).sum())
    return Evaluation(
        theta=np.asarray(theta, dtype=float),
        Lambda=lam,
        L=L,
        RZX=RZX,
        cu=cu,
        LX=LX,
        beta=beta,
        pwrss=pwrss,
        logdet_L=logdet_L,
        logdet_RX=logdet_RX,
        n=blocks.n,
        p=p,
    )


def deviance_at(theta: np.ndarray, blocks: Blocks, pattern, reml: bool) -> float:
    """Profiled deviance at ``theta``; +inf where the factorisation fails."""
    try:
        return evaluate(theta, blocks, pattern).deviance(reml)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        return np.inf


def varpar_deviance(varpar: np.ndarray, blocks: Blocks, pattern, reml: bool) -> float:
    """Deviance at (theta, sigma), not profiled over sigma (as lmerTest's devfun_vp).

    ML:   log|L|^2 + r^2/sigma^2 + n log(2 pi sigma^2)
    REML: the ML expression + log|R_X|^2 - p log(2 pi sigma^2)
    """
    theta, sigma = varpar[:-1], varpar[-1]
    ev = evaluate(theta, blocks, pattern)
    s2 = sigma * sigma
    dev = ev.logdet_L + ev.pwrss / s2 + ev.n * (_LOG2PI + np.log(s2))
    if reml:
        dev += ev.logdet_RX - ev.p * (_LOG2PI + np.log(s2))
    return float(dev)


def cov_beta_at(varpar: np.ndarray, blocks: Blocks, pattern) -> np.ndarray:
    """Covariance of the fixed effects at (theta, sigma): sigma^2 (R_X'R_X)^-1."""
    ev = evaluate(varpar[:-1], blocks, pattern)
    return varpar[-1] ** 2 * ev.cov_beta_unscaled()

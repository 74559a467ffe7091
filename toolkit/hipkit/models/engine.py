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

Visit patterns. The deviance needs only the sums over participants of

    R_ZX,i'R_ZX,i = W_i' K_i W_i,  R_ZX,i'c_u,i = W_i' K_i s_i,  |c_u,i|^2 = s_i' K_i s_i,
    K_i = Lambda (Lambda' Z_i'Z_i Lambda + I)^-1 Lambda'       (W_i = Z_i'X_i, s_i = Z_i'y_i)

and K_i depends on participant i only through Z_i'Z_i, which is the same for everyone seen at the
same visits (with a random intercept and slope on protocol weeks: a handful of patterns however many
participants). So the blocks are grouped once by their Z'Z pattern, the outer products of
[W_i, s_i] summed within each pattern, and every later evaluation costs O(patterns), independent of
the number of participants and rows: the optimiser and the Satterthwaite derivatives run on a few
small matrices. The algebra is exact; only the order of the floating-point sums changes. Where
nearly every participant has a pattern of their own (random slopes on continuous days), the
per-participant path is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Blocks",
    "make_blocks",
    "pattern_sums",
    "group_patterns",
    "sum_patterns",
    "lambda_matrix",
    "Evaluation",
    "evaluate",
    "core",
    "deviance_at",
]

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
    Xsum: np.ndarray | None = None  # (p,) column sums of X (for R^2 without the rows)
    # Engine caches, computed once per blocks: the visit-pattern sums (False: not computed yet; None:
    # too few patterns repeat, use the per-participant path) and the contiguous columns of q <= 2.
    _patterns: "PatternSums | None | bool" = field(default=False, init=False, repr=False, compare=False)
    _cols: dict | None = field(default=None, init=False, repr=False, compare=False)

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
            None if self.Xsum is None or other.Xsum is None else self.Xsum + other.Xsum,
        )


@dataclass
class PatternSums:
    """Blocks grouped by their Z'Z pattern (see the module docstring)."""

    ZtZ: np.ndarray  # (P, q, q) the distinct Z'Z
    count: np.ndarray  # (P,) participants with each pattern
    S: np.ndarray  # (P, q, p + 1, q, p + 1): sums over a pattern of [W, s] outer [W, s]
    _S_flat: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def S_flat(self) -> np.ndarray:
        """``S`` as a (P q q, (p + 1)^2) matrix, so that one product with the flattened K gives T."""
        flat = self._S_flat
        if flat is None:
            P, q, p1 = self.S.shape[0], self.S.shape[1], self.S.shape[2]
            flat = np.ascontiguousarray(self.S.transpose(0, 1, 3, 2, 4).reshape(P * q * q, p1 * p1))
            self._S_flat = flat
        return flat


def group_patterns(ZtZ: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Group participants by identical Z'Z: (distinct Z'Z, counts, stable order, bounds); None if too few repeat.

    Depends only on the design, not on the response, so replicate refits on one design compute it once.
    """
    G, q = ZtZ.shape[0], ZtZ.shape[1]
    uniq, inverse, count = np.unique(ZtZ.reshape(G, q * q), axis=0, return_inverse=True, return_counts=True)
    if len(uniq) > max(8, G // 8):
        return None
    order = np.argsort(inverse.ravel(), kind="stable")
    bounds = np.concatenate([[0], np.cumsum(count)])
    return uniq.reshape(-1, q, q), count, order, bounds


def sum_patterns(blocks: "Blocks", grouping) -> PatternSums:
    """The pattern sums of ``blocks`` for a grouping from :func:`group_patterns` (cached on the blocks)."""
    uniq, count, order, bounds = grouping
    G, q, p = blocks.ZtZ.shape[0], blocks.q, blocks.p
    V = np.concatenate([blocks.ZtX, blocks.Zty[:, :, None]], axis=2).reshape(G, q * (p + 1))
    Vs = V[order]
    S = np.empty((len(uniq), q * (p + 1), q * (p + 1)))
    for k in range(len(uniq)):
        part = Vs[bounds[k] : bounds[k + 1]]
        S[k] = part.T @ part
    result = PatternSums(ZtZ=uniq, count=count.astype(float), S=S.reshape(len(uniq), q, p + 1, q, p + 1))
    blocks._patterns = result
    return result


def pattern_sums(blocks: "Blocks") -> PatternSums | None:
    """Group participants by identical Z'Z and sum their cross-products (None: too few repeats)."""
    cached = blocks._patterns
    if cached is not False:
        return cached
    grouping = group_patterns(blocks.ZtZ)
    if grouping is None:
        blocks._patterns = None
        return None
    return sum_patterns(blocks, grouping)


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
    return Blocks(ZtZ=ZtZ, ZtX=ZtX, Zty=Zty, XtX=X.T @ X, Xty=X.T @ y, yty=float(y @ y), n=len(y), Xsum=X.sum(axis=0))


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
        return criterion(self.logdet_L, self.logdet_RX, self.pwrss, self.n, self.p, reml)

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


def _columns(blocks: Blocks) -> dict:
    """Contiguous per-participant columns of the blocks, computed once and cached on them."""
    cols = blocks._cols
    if cols is None:
        Z = blocks.ZtZ
        cols = {
            "a": np.ascontiguousarray(Z[:, 0, 0]),
            "zx0": np.ascontiguousarray(blocks.ZtX[:, 0, :]),
            "zy0": np.ascontiguousarray(blocks.Zty[:, 0]),
        }
        if Z.shape[1] > 1:
            cols.update(
                b=np.ascontiguousarray(Z[:, 1, 0]),
                c=np.ascontiguousarray(Z[:, 1, 1]),
                zx1=np.ascontiguousarray(blocks.ZtX[:, 1, :]),
                zy1=np.ascontiguousarray(blocks.Zty[:, 1]),
            )
        blocks._cols = cols
    return cols


def _chol_q2(lam: np.ndarray, k: dict):
    """The per-participant 2 x 2 factor (m11, m21, m22) and the solved rows r0, r1, c0, c1."""
    l11, l21, l22 = lam[0, 0], lam[1, 0], lam[1, 1]
    a, b, c = k["a"], k["b"], k["c"]
    # A = Lambda' ZtZ Lambda + I, with Lambda lower triangular
    a11 = l11 * l11 * a + 2.0 * l11 * l21 * b + l21 * l21 * c + 1.0
    a21 = l22 * (l11 * b + l21 * c)
    a22 = l22 * l22 * c + 1.0
    m11 = np.sqrt(a11)
    m21 = a21 / m11
    m22 = np.sqrt(a22 - m21 * m21)
    r0 = (l11 * k["zx0"] + l21 * k["zx1"]) / m11[:, None]
    r1 = (l22 * k["zx1"] - m21[:, None] * r0) / m22[:, None]
    c0 = (l11 * k["zy0"] + l21 * k["zy1"]) / m11
    c1 = (l22 * k["zy1"] - m21 * c0) / m22
    return m11, m21, m22, r0, r1, c0, c1


def _chol_q1(lam: np.ndarray, k: dict):
    lam11 = lam[0, 0]
    m = np.sqrt(lam11 * lam11 * k["a"] + 1.0)
    return m, (lam11 * k["zx0"]) / m[:, None], (lam11 * k["zy0"]) / m


def _deviance_q2(lam: np.ndarray, blocks: Blocks):
    """M_sub, rhs_sub, |c_u|^2 and log|L|^2 for two random effects, without the factor arrays."""
    m11, _, m22, r0, r1, c0, c1 = _chol_q2(lam, _columns(blocks))
    logdet = 2.0 * float(np.log(m11 * m22).sum())
    return r0.T @ r0 + r1.T @ r1, r0.T @ c0 + r1.T @ c1, float(c0 @ c0 + c1 @ c1), logdet


def _deviance_q1(lam: np.ndarray, blocks: Blocks):
    m, r, c = _chol_q1(lam, _columns(blocks))
    return r.T @ r, r.T @ c, float(c @ c), 2.0 * float(np.log(m).sum())


def _factor_q2(lam: np.ndarray, blocks: Blocks):
    """Closed-form per-participant factorisation for two random effects (arrays over participants)."""
    m11, m21, m22, r0, r1, c0, c1 = _chol_q2(lam, _columns(blocks))
    L = np.zeros((len(m11), 2, 2))
    L[:, 0, 0], L[:, 1, 0], L[:, 1, 1] = m11, m21, m22
    RZX = np.stack([r0, r1], axis=1)
    cu = np.stack([c0, c1], axis=1)
    logdet = 2.0 * float(np.log(m11 * m22).sum())
    return L, RZX, cu, r0.T @ r0 + r1.T @ r1, r0.T @ c0 + r1.T @ c1, logdet


def _factor_q1(lam: np.ndarray, blocks: Blocks):
    """Closed-form per-participant factorisation for one random effect."""
    m, r, c = _chol_q1(lam, _columns(blocks))
    return m[:, None, None], r[:, None, :], c[:, None], r.T @ r, r.T @ c, 2.0 * float(np.log(m).sum())


def criterion(logdet_L: float, logdet_RX: float, pwrss: float, n: int, p: int, reml: bool) -> float:
    """The profiled deviance from its parts (lme4's eq. 34 for ML and eq. 41 for REML)."""
    if reml:
        nmp = n - p
        return logdet_L + logdet_RX + nmp * (1.0 + np.log(2.0 * np.pi * pwrss / nmp))
    return logdet_L + n * (1.0 + np.log(2.0 * np.pi * pwrss / n))


def _per_participant(lam: np.ndarray, blocks: Blocks):
    """Per-participant factors L_i, R_ZX,i, c_u,i and their sums M_sub, rhs_sub, log|L|^2."""
    q = blocks.q
    if q <= 2:
        return (_factor_q1 if q == 1 else _factor_q2)(lam, blocks)
    lt = lam.T
    A = lt @ blocks.ZtZ @ lam  # (G, q, q)
    idx = np.arange(q)
    A[:, idx, idx] += 1.0
    L = _cholesky_small(A)
    RZX = _solve_lower(L, lt @ blocks.ZtX)  # (G, q, p)
    cu = _solve_lower(L, blocks.Zty @ lam)  # (G, q): (Lambda' Zty_i) = Zty_i Lambda
    M_sub = np.einsum("gqi,gqj->ij", RZX, RZX)
    rhs_sub = np.einsum("gqi,gq->i", RZX, cu)
    return L, RZX, cu, M_sub, rhs_sub, 2.0 * float(np.log(L[:, idx, idx]).sum())


def evaluate(theta: np.ndarray, blocks: Blocks, pattern: list[tuple[int, int]]) -> Evaluation:
    """Solve the penalised least-squares problem at ``theta`` (see the module docstring)."""
    lam = lambda_matrix(theta, pattern, blocks.q)
    L, RZX, cu, M_sub, rhs_sub, logdet_L = _per_participant(lam, blocks)
    c = _finish(blocks, M_sub, rhs_sub, float(np.einsum("gq,gq->", cu, cu)), logdet_L)
    return Evaluation(
        theta=np.asarray(theta, dtype=float),
        Lambda=lam,
        L=L,
        RZX=RZX,
        cu=cu,
        LX=c.LX,
        beta=np.linalg.solve(c.LX.T, c.cbeta),
        pwrss=c.pwrss,
        logdet_L=c.logdet_L,
        logdet_RX=c.logdet_RX,
        n=blocks.n,
        p=blocks.p,
    )


def _pattern_terms(lam: np.ndarray, ps: PatternSums, p: int):
    """M_sub, rhs_sub, |c_u|^2 and log|L|^2 from the pattern sums (cost independent of n)."""
    q = lam.shape[0]
    Z = ps.ZtZ
    if q == 1:  # closed forms: no LAPACK call overhead for the common small cases
        l2 = float(lam[0, 0]) ** 2
        A = l2 * Z[:, 0, 0] + 1.0
        logdet = float(ps.count @ np.log(A))
        K = l2 / A
    elif q == 2:
        l11, l21, l22 = lam[0, 0], lam[1, 0], lam[1, 1]
        a, b, c = Z[:, 0, 0], Z[:, 1, 0], Z[:, 1, 1]
        a11 = l11 * l11 * a + 2.0 * l11 * l21 * b + l21 * l21 * c + 1.0
        a21 = l22 * (l11 * b + l21 * c)
        a22 = l22 * l22 * c + 1.0
        det = a11 * a22 - a21 * a21
        if np.any(det <= 0):
            raise np.linalg.LinAlgError("not positive definite")
        logdet = float(ps.count @ np.log(det))
        i11, i21, i22 = a22 / det, -a21 / det, a11 / det  # A^-1
        # K = Lambda A^-1 Lambda' with Lambda = [[l11, 0], [l21, l22]]
        k11 = l11 * l11 * i11
        k21 = l11 * (l21 * i11 + l22 * i21)
        k22 = l21 * l21 * i11 + 2.0 * l21 * l22 * i21 + l22 * l22 * i22
        K = np.empty((len(a), 2, 2))
        K[:, 0, 0], K[:, 1, 0], K[:, 0, 1], K[:, 1, 1] = k11, k21, k21, k22
    else:
        A = lam.T @ Z @ lam
        A[:, np.arange(q), np.arange(q)] += 1.0
        C = np.linalg.cholesky(A)
        logdet = 2.0 * float(ps.count @ np.log(np.diagonal(C, axis1=1, axis2=2)).sum(axis=1))
        Ci_lt = np.linalg.solve(C, np.broadcast_to(lam.T, A.shape))  # C^-1 Lambda'
        K = np.swapaxes(Ci_lt, 1, 2) @ Ci_lt  # Lambda A^-1 Lambda'
    T = (K.reshape(-1) @ ps.S_flat).reshape(p + 1, p + 1)  # sum_k sum_ab K_k[a,b] S_k[a,:,b,:]
    return T[:p, :p], T[:p, p], float(T[p, p]), logdet


@dataclass
class Core:
    """The parts of the profiled deviance at one theta (no per-participant arrays)."""

    LX: np.ndarray
    cbeta: np.ndarray
    pwrss: float
    logdet_L: float
    logdet_RX: float


def core(theta: np.ndarray, blocks: Blocks, pattern) -> Core:
    """R_X, c_beta, r^2 and the log-determinants at ``theta``, by the cheapest exact route.

    Raises ``np.linalg.LinAlgError`` or ``FloatingPointError`` where the factorisation fails.
    """
    q = blocks.q
    lam = lambda_matrix(theta, pattern, q)
    ps = pattern_sums(blocks)
    with np.errstate(invalid="raise", divide="raise"):
        if ps is not None:
            M_sub, rhs_sub, cucu, logdet_L = _pattern_terms(lam, ps, blocks.p)
        elif q <= 2:
            M_sub, rhs_sub, cucu, logdet_L = (_deviance_q1 if q == 1 else _deviance_q2)(lam, blocks)
        else:
            _, _, cu, M_sub, rhs_sub, logdet_L = _per_participant(lam, blocks)
            cucu = float(np.einsum("gq,gq->", cu, cu))
    return _finish(blocks, M_sub, rhs_sub, cucu, logdet_L)


def _finish(blocks: Blocks, M_sub: np.ndarray, rhs_sub: np.ndarray, cucu: float, logdet_L: float) -> Core:
    """R_X, c_beta and r^2 from the sums over participants (lme4's eqs. for the fixed effects)."""
    LX = np.linalg.cholesky(blocks.XtX - M_sub)
    cbeta = np.linalg.solve(LX, blocks.Xty - rhs_sub)
    pwrss = max(blocks.yty - cucu - float(cbeta @ cbeta), 1e-300)
    return Core(LX, cbeta, pwrss, logdet_L, 2.0 * float(np.log(np.diag(LX)).sum()))


def deviance_at(theta: np.ndarray, blocks: Blocks, pattern, reml: bool) -> float:
    """Profiled deviance at ``theta``; +inf where the factorisation fails.

    Uses the visit-pattern sums where participants share patterns, else the closed forms for one
    or two random effects, else :func:`evaluate`; none builds per-participant factor arrays
    except the last.
    """
    try:
        c = core(theta, blocks, pattern)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        return np.inf
    return criterion(c.logdet_L, c.logdet_RX, c.pwrss, blocks.n, blocks.p, reml)


def varpar_deviance(varpar: np.ndarray, blocks: Blocks, pattern, reml: bool) -> float:
    """Deviance at (theta, sigma), not profiled over sigma (as lmerTest's devfun_vp).

    ML:   log|L|^2 + r^2/sigma^2 + n log(2 pi sigma^2)
    REML: the ML expression + log|R_X|^2 - p log(2 pi sigma^2)
    """
    theta, sigma = varpar[:-1], varpar[-1]
    c = core(theta, blocks, pattern)
    s2 = sigma * sigma
    dev = c.logdet_L + c.pwrss / s2 + blocks.n * (_LOG2PI + np.log(s2))
    if reml:
        dev += c.logdet_RX - blocks.p * (_LOG2PI + np.log(s2))
    return float(dev)


def cov_beta_at(varpar: np.ndarray, blocks: Blocks, pattern) -> np.ndarray:
    """Covariance of the fixed effects at (theta, sigma): sigma^2 (R_X'R_X)^-1."""
    LX = core(varpar[:-1], blocks, pattern).LX
    inv = np.linalg.solve(LX, np.eye(blocks.p))
    return varpar[-1] ** 2 * (inv.T @ inv)

"""Kenward-Roger: the adjusted covariance of the fixed effects and the df of t and F tests.

Follows Kenward & Roger (1997, Biometrics 53:983-997, doi:10.2307/2533558) with the choices of
pbkrtest (Halekoh & Hojsgaard 2014, J Stat Softw 59(9), doi:10.18637/jss.v059.i09), which lmerTest
and emmeans call:

- The variance parameters are ``gamma``: the elements of the random-effect covariance matrix
  ``D = sigma^2 Lambda Lambda'`` that the model estimates (the free entries of Lambda's pattern:
  variances, and covariances of correlated terms) and the residual variance ``sigma^2``. V is
  linear in them, ``V = sum_r gamma_r G_r`` with ``G_r = Z E_r Z'`` (``E_r = e_a e_b' + e_b e_a'``
  for the entry (a, b) of D, ``e_a e_a'`` on the diagonal) and ``G_sigma = I``, so the second
  derivatives of V vanish (KR's R_ij = 0).
- ``Phi = (X'V^-1 X)^-1``, ``P_r = -X'V^-1 G_r V^-1 X``, ``Q_rs = X'V^-1 G_r V^-1 G_s V^-1 X``.
- The expected REML information, times 2:
  ``IE2_rs = tr(V^-1 G_r V^-1 G_s) - 2 tr(Phi Q_rs) + tr(Phi P_r Phi P_s)``, and
  ``W = 2 IE2^-1`` (a generalised inverse when IE2's smallest absolute eigenvalue is below 1e-10,
  as pbkrtest does).
- ``Phi_A = Phi + 2 Phi U Phi``, ``U = sum_rs W_rs (Q_rs - P_r Phi P_s)`` (pbkrtest's ``vcovAdj``).
- For ``H0: L beta = 0`` with ``q = rank(L)``: ``Theta = L'(L Phi L')^-1 L``,
  ``A1 = sum_rs W_rs tr(Theta Phi P_r Phi) tr(Theta Phi P_s Phi)``,
  ``A2 = sum_rs W_rs tr(Theta Phi P_r Phi Theta Phi P_s Phi)``, and KR's ``rho``, denominator df
  ``m = 4 + (q + 2) / (q rho - 1)`` and scale ``lambda = m (1 - A2/q) / (m - 2)``; the statistic is
  ``F = lambda (L beta)'(L Phi_A L')^-1 (L beta) / q`` on (q, m) df (pbkrtest's ``.KR_adjust``).
  A t test is the case q = 1 (lambda = 1, ``m = 2 / A1``), with standard error
  ``sqrt(l' Phi_A l)``, as lmerTest's ``summary(m, ddf = "Kenward-Roger")``.

Kenward-Roger is defined for REML fits; like lmerTest, hipkit refuses it for ML fits (pbkrtest's
``vcovAdj`` would silently refit by REML). On a singular fit (a variance at zero, a correlation at
+/-1) pbkrtest evaluates the same formulas at the estimates: V stays positive definite (sigma > 0) and
the information of the variance parameters is usually invertible; hipkit does the same.

Validated against pbkrtest 0.5.2, lmerTest 3.1-3 and emmeans 1.8.4.1 (R 4.2.2) in
``tests/reference/kenward_roger/`` and on every REML case of ``tests/reference/``
(``tests/models/test_kenward_roger.py``).

The algebra on blocks. With one grouping factor V is block diagonal,
``V_i = sigma^2 (I + Z_i Lambda Lambda' Z_i')``, and by Woodbury
``V_i^-1 = R_i / sigma^2`` with ``R_i = I - Z_i K_i Z_i'``,
``K_i = Lambda (Lambda' C_i Lambda + I)^-1 Lambda'`` and ``C_i = Z_i'Z_i`` (the engine's K_i).
Since ``Z_i'R_i = T_i Z_i'`` with ``T_i = I - C_i K_i``, every product above reduces to q x q
matrices of participant i and ``W_i = Z_i'X_i``:

    Z_i'R_i^a X_i = T_i^a W_i,    Z_i'R_i Z_i = T_i C_i =: M_i,    Z_i'R_i^2 Z_i = T_i M_i
    X_i'R_i X_i   = X_i'X_i - W_i'K_i W_i
    X_i'R_i^2 X_i = X_i'X_i - W_i'(2K_i - K_iC_iK_i) W_i
    X_i'R_i^3 X_i = X_i'X_i - W_i'(3K_i - 3K_iC_iK_i + K_iC_iK_iC_iK_i) W_i
    tr(R_i^2)     = n_i - 2 tr(K_iC_i) + tr(K_iC_iK_iC_i)

so, with N_i = T_i W_i and s = sigma^2 (sums over participants; only the total X'X is needed):

    Phi      = s (X'X - sum W'KW)^-1
    P_r      = -s^-2 sum N'E_r N                       P_sigma = -s^-2 sum X_i'R_i^2 X_i
    Q_rs     = s^-3 sum N'E_r M E_s N                  Q_r,sigma = s^-3 sum N'E_r T N
    Q_sigma,sigma = s^-3 sum X_i'R_i^3 X_i             Q_sigma,s = Q_s,sigma'
    tr(V^-1G_rV^-1G_s) = s^-2 sum tr(E_r M E_s M)      (r, sigma): s^-2 sum tr(E_r T M)
    (sigma, sigma): s^-2 (n - sum [2 tr(KC) - tr(KCKC)])

Each sum over participants is either a trace of a q x q function of C_i or a quadratic form
``sum_i W_i' F(C_i) W_i``. Where participants share their Z'Z (a visit pattern), F is the same for
all of them and ``sum_{i in pattern} W_i' F W_i`` is F contracted with the pattern's summed outer
products ``sum W_i (x) W_i`` that the engine already keeps (``engine.pattern_sums``): the cost is
then O(patterns * q^2 p^2) per term, independent of the number of participants. Otherwise the same
formulas run over the participants in chunks (cost O(participants)). No n x n matrix is formed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import ArgumentError
from .engine import Blocks, lambda_matrix, pattern_sums

__all__ = ["KenwardRoger", "kr_ddf"]

#: pbkrtest's threshold on IE2's smallest absolute eigenvalue below which it uses a generalised inverse.
_IE2_SINGULAR = 1e-10
#: Participants per chunk on the per-participant path (bounds the memory of the stacked q x q arrays).
_CHUNK = 8192


@dataclass(frozen=True)
class KenwardRoger:
    """Kenward-Roger quantities at the REML optimum (see the module docstring).

    Attributes
    ----------
    vcov : ndarray
        ``Phi``, the unadjusted covariance of the fixed effects.
    vcov_adjusted : ndarray
        ``Phi_A``, the Kenward-Roger adjusted covariance (pbkrtest's ``vcovAdj``).
    P : ndarray
        The matrices ``P_r``, shape (k, p, p), one per variance parameter.
    W : ndarray
        Twice the inverse of IE2 (the asymptotic covariance of the variance parameters), (k, k).
    info_min_abs_eigenvalue : float
        Smallest absolute eigenvalue of IE2 (pbkrtest's ``condi``).
    path : str
        ``"pattern"`` or ``"participant"``: which route computed the sums.

    Examples
    --------
    >>> import pandas as pd, hipkit
    >>> sleep = pd.read_csv("tests/reference/sleepstudy/data.csv")
    >>> fit = hipkit.lmm("Reaction ~ Days + (Days | Subject)", sleep)
    >>> kr = fit.kenward_roger
    >>> [round(float(v), 3) for v in kr.df(np.eye(2))]
    [17.0, 17.0]
    """

    vcov: np.ndarray
    vcov_adjusted: np.ndarray
    P: np.ndarray
    W: np.ndarray
    info_min_abs_eigenvalue: float
    path: str

    @classmethod
    def compute(cls, theta: np.ndarray, sigma: float, blocks: Blocks, pattern, path: str = "auto") -> "KenwardRoger":
        """Evaluate the adjusted covariance at (theta, sigma) of a REML fit.

        Parameters
        ----------
        theta : ndarray
            Relative covariance parameters (the free entries of Lambda, in ``pattern``'s order).
        sigma : float
            Residual standard deviation.
        blocks : Blocks
            The model's cross-products.
        pattern : list of (int, int)
            The (row, column) of each entry of theta in Lambda.
        path : {"auto", "pattern", "participant"}
            The visit-pattern sums where they exist (``"auto"``), or the named route (for tests).

        Returns
        -------
        KenwardRoger
        """
        if path not in ("auto", "pattern", "participant"):
            raise ArgumentError(f"path must be 'auto', 'pattern' or 'participant', got {path!r}")
        ps = pattern_sums(blocks) if path in ("auto", "pattern") else None
        if path == "pattern" and ps is None:
            raise ArgumentError("these blocks have no visit-pattern sums (nearly every participant has its own Z'Z)")
        q, p = blocks.q, blocks.p
        lam = lambda_matrix(np.asarray(theta, dtype=float), pattern, q)
        E = _directions(pattern, q)
        if ps is not None:
            SW = ps.S[:, :, :p, :, :p]  # sums over each pattern of W_i (x) W_i
            sums = _unit_sums(lam, E, ps.ZtZ, ps.count, lambda F: np.tensordot(F, SW, axes=([0, 2, 3], [0, 1, 3])))
            used = "pattern"
        else:
            sums = None
            for start in range(0, blocks.ZtZ.shape[0], _CHUNK):
                sl = slice(start, start + _CHUNK)
                W = blocks.ZtX[sl]
                part = _unit_sums(lam, E, blocks.ZtZ[sl], np.ones(W.shape[0]), lambda F, W=W: _quad_rows(F, W))
                sums = part if sums is None else tuple(a + b for a, b in zip(sums, part))
            used = "participant"
        return _assemble(sums, blocks.XtX, blocks.n, sigma * sigma, len(E), used)

    # -- tests ------------------------------------------------------------------------------------
    def df(self, L: np.ndarray) -> np.ndarray:
        """Kenward-Roger df of the t test of each row of ``L`` (pbkrtest's ``Lb_ddf``)."""
        L = np.atleast_2d(np.asarray(L, dtype=float))
        return np.array([kr_ddf(row[None, :], self.vcov, self.P, self.W)[0] for row in L])

    def t_test(self, L: np.ndarray, beta: np.ndarray):
        """Estimate, SE (from the adjusted covariance), df, t and two-sided p for each row of ``L``."""
        L = np.atleast_2d(np.asarray(L, dtype=float))
        est = L @ beta
        se = np.sqrt(np.einsum("ij,jk,ik->i", L, self.vcov_adjusted, L))
        df = self.df(L)
        t = est / se
        p = 2.0 * stats.t.sf(np.abs(t), df)
        return est, se, df, t, p

    def f_test_details(self, L: np.ndarray, beta: np.ndarray) -> dict:
        """The F test of ``H0: L beta = 0`` with every intermediate (pbkrtest's ``KRmodcomp``).

        Returns
        -------
        dict
            ``statistic`` (the scaled F), ``statistic_unscaled`` (Wald / q with the adjusted
            covariance), ``scale`` (lambda), ``num_df``, ``den_df``, ``p_value``.
        """
        L = np.atleast_2d(np.asarray(L, dtype=float))
        ddf, scale, q = kr_ddf(L, self.vcov, self.P, self.W)
        Lb = L @ beta
        wald = float(Lb @ np.linalg.lstsq(L @ self.vcov_adjusted @ L.T, Lb, rcond=None)[0])
        F_u = wald / q
        F = scale * F_u
        return {
            "statistic": F,
            "statistic_unscaled": F_u,
            "scale": scale,
            "num_df": q,
            "den_df": ddf,
            "p_value": float(stats.f.sf(F, q, ddf)),
        }

    def f_test(self, L: np.ndarray, beta: np.ndarray):
        """F value (scaled), numerator df, denominator df and p, as ``Satterthwaite.f_test`` returns them."""
        d = self.f_test_details(L, beta)
        return d["statistic"], d["num_df"], d["den_df"], d["p_value"]


def kr_ddf(L: np.ndarray, Phi: np.ndarray, P: np.ndarray, W: np.ndarray) -> tuple[float, float, int]:
    """Denominator df, F scale (lambda) and q = rank(L) of KR's approximate F test.

    The expressions of Kenward & Roger (1997, section 4) as pbkrtest's ``.KR_adjust`` writes them.
    """
    L = np.atleast_2d(L)
    q = int(np.linalg.matrix_rank(L))
    Theta = L.T @ np.linalg.lstsq(L @ Phi @ L.T, L, rcond=None)[0]
    U = np.einsum("ab,kbc,cd->kad", Theta @ Phi, P, Phi)  # Theta Phi P_r Phi
    tr = np.einsum("kaa->k", U)
    A1 = float(tr @ W @ tr)
    A2 = float(np.sum(W * np.einsum("iab,jba->ij", U, U)))
    with np.errstate(divide="ignore", invalid="ignore"):
        B = (A1 + 6.0 * A2) / (2.0 * q)
        g = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2)
        den = 3.0 * q + 2.0 * (1.0 - g)
        c1, c2, c3 = g / den, (q - g) / den, (q + 2.0 - g) / den
        V0, V1, V2 = 1.0 + c1 * B, 1.0 - c2 * B, 1.0 - c3 * B
        if abs(V0) < 1e-10:
            V0 = 0.0
        x = 1.0 - A2 / q
        ratio = 1.0 if abs(x) < 1e-14 and abs(V1) < 1e-14 else x / V1  # pbkrtest's .divZero
        # V2 is exactly 0 for a 1-df between-participant test in a balanced design: R's division gives
        # rho = Inf and so ddf = 4 + 0 (the exact df); numpy's does too, Python's float division raises.
        rho = np.float64(ratio * ratio * V0) / np.float64(q * V2)
        ddf = 4.0 + (q + 2.0) / (q * rho - 1.0)
        scale = 1.0 if abs(ddf - 2.0) < 0.01 else ddf * (1.0 - A2 / q) / (ddf - 2.0)
    return float(ddf), float(scale), q


# -- the sums over participants ---------------------------------------------------------------------


def _directions(pattern, q: int) -> np.ndarray:
    """E_r for each free entry (a, b) of D: e_a e_b' + e_b e_a' (e_a e_a' on the diagonal); (k-1, q, q)."""
    E = np.zeros((len(pattern), q, q))
    for r, (a, b) in enumerate(pattern):
        E[r, a, b] = E[r, b, a] = 1.0
    return E


def _quad_rows(F: np.ndarray, W: np.ndarray) -> np.ndarray:
    """sum_i W_i' F_i[m] W_i for per-participant F (i, m, q, q) and W (i, q, p): shape (m, p, p)."""
    Y = np.matmul(F, W[:, None])  # (i, m, q, p)
    return np.moveaxis(np.tensordot(W, Y, axes=([0, 1], [0, 2])), 1, 0)


def _unit_sums(lam: np.ndarray, E: np.ndarray, C: np.ndarray, weight: np.ndarray, quad):
    """The quadratic forms and traces of the module docstring, summed over a set of units.

    A unit is a participant (weight 1) or a visit pattern (weight: its number of participants);
    ``quad(F)`` returns sum over the units' participants of W_i' F W_i for F of shape (units, m, q, q).
    """
    q, k = C.shape[1], E.shape[0]
    eye = np.eye(q)
    A = lam.T @ C @ lam + eye
    K = lam @ np.linalg.solve(A, np.broadcast_to(lam.T, A.shape))  # Lambda A^-1 Lambda'
    K = 0.5 * (K + np.swapaxes(K, 1, 2))
    CK = C @ K
    T = eye - CK  # (u, q, q)
    Tt = np.swapaxes(T, 1, 2)
    M = T @ C  # Z'RZ, symmetric
    M = 0.5 * (M + np.swapaxes(M, 1, 2))
    KCK = K @ CK
    KCKCK = KCK @ CK
    TtE = np.einsum("uab,rbc->urac", Tt, E)  # T'E_r, (u, k, q, q)
    EM = np.einsum("rab,ubc->urac", E, M)  # E_r M
    ME = np.swapaxes(EM, 2, 3)  # M E_r
    F = [K[:, None], KCK[:, None], KCKCK[:, None], TtE @ T[:, None]]  # X'RX parts; P_r
    iu, ju = np.triu_indices(k)
    F.append(TtE[:, iu] @ ME[:, ju] @ T[:, None])  # Q_rs, r <= s: T'E_r M E_s T
    F.append(TtE @ (T @ T)[:, None])  # Q_r,sigma: T'E_r T^2
    Fall = np.concatenate(F, axis=1)
    Qf = quad(Fall)  # (m, p, p)
    # traces
    tr_dd = np.einsum("w,wrab,wsba->rs", weight, EM, EM)  # tr(E_r M E_s M)
    TM = T @ M
    tr_ds = np.einsum("w,rab,wba->r", weight, E, TM)  # tr(E_r T M)
    tr_ss = float(weight @ (2.0 * np.einsum("waa->w", CK) - np.einsum("wab,wba->w", CK, CK)))
    return Qf, tr_dd, tr_ds, np.array(tr_ss)


def _assemble(sums, XtX: np.ndarray, n: int, s: float, k: int, path: str) -> KenwardRoger:
    """Phi, P, Q, IE2, W and Phi_A from the summed pieces (see the module docstring)."""
    Qf, tr_dd, tr_ds, tr_ss = sums
    qK, qKCK, qKCKCK = Qf[0], Qf[1], Qf[2]
    QP = Qf[3 : 3 + k]
    iu, ju = np.triu_indices(k)
    nQ = len(iu)
    QQ = Qf[3 + k : 3 + k + nQ]
    Qsig = Qf[3 + k + nQ :]
    kk = k + 1  # with sigma^2
    p = XtX.shape[0]
    XRX = XtX - qK
    XRX = 0.5 * (XRX + XRX.T)
    Phi = s * np.linalg.inv(XRX)
    Phi = 0.5 * (Phi + Phi.T)
    P = np.empty((kk, p, p))
    P[:k] = -QP / s**2
    P[k] = -(XtX - 2.0 * qK + qKCK) / s**2
    P = 0.5 * (P + np.swapaxes(P, 1, 2))
    Q = np.empty((kk, kk, p, p))
    Q[iu, ju] = QQ / s**3
    Q[ju, iu] = np.swapaxes(QQ, 1, 2) / s**3
    Q[:k, k] = Qsig / s**3
    Q[k, :k] = np.swapaxes(Qsig, 1, 2) / s**3
    Q[k, k] = (XtX - 3.0 * qK + 3.0 * qKCK - qKCKCK) / s**3
    Ktr = np.empty((kk, kk))
    Ktr[:k, :k] = tr_dd / s**2
    Ktr[:k, k] = Ktr[k, :k] = tr_ds / s**2
    Ktr[k, k] = (n - float(tr_ss)) / s**2
    PhiP = np.einsum("ab,kbc->kac", Phi, P)  # Phi P_r
    IE2 = Ktr - 2.0 * np.einsum("ab,rsba->rs", Phi, Q) + np.einsum("iab,jba->ij", PhiP, PhiP)
    IE2 = 0.5 * (IE2 + IE2.T)
    condi = float(np.min(np.abs(np.linalg.eigvalsh(IE2))))
    if condi > _IE2_SINGULAR:
        Wm = 2.0 * np.linalg.inv(IE2)
    else:  # as pbkrtest: MASS::ginv, singular values below sqrt(eps) times the largest dropped
        Wm = 2.0 * np.linalg.pinv(IE2, rcond=np.sqrt(np.finfo(float).eps))
    Wm = 0.5 * (Wm + Wm.T)
    PPhiP = np.einsum("iab,jbc->ijac", P, PhiP)  # P_r Phi P_s
    U = np.einsum("rs,rsab->ab", Wm, Q - PPhiP)
    U = 0.5 * (U + U.T)
    PhiA = Phi + 2.0 * Phi @ U @ Phi
    PhiA = 0.5 * (PhiA + PhiA.T)
    return KenwardRoger(vcov=Phi, vcov_adjusted=PhiA, P=P, W=Wm, info_min_abs_eigenvalue=condi, path=path)

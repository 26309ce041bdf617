"""Step weights of the exponential integrators DEIS and UniPC, in closed form.

Pure float64 scalar maths (no tensors): :mod:`cadenza.sampling` asks for the weights of one step
and applies them to its states. Kept apart so that the samplers there stay short updates.
"""

from __future__ import annotations

import math

import numpy as np


def exponential_moment(power: int, span: float) -> float:
    """Integral of v^power e^v dv from 0 to ``span`` (span may be -inf)."""
    if span == -math.inf:  # the antiderivative e^v sum_m (-1)^(k-m) k!/m! v^m vanishes there
        return -((-1) ** power) * math.factorial(power)
    if abs(span) < 1:  # power series: no cancellation on short steps
        return sum(
            span ** (power + m + 1) / (math.factorial(m) * (power + m + 1)) for m in range(30)
        )
    antiderivative = sum(
        (-1) ** (power - m) * math.factorial(power) / math.factorial(m) * span**m
        for m in range(power + 1)
    )
    return math.exp(span) * antiderivative + ((-1) ** (power + 1)) * math.factorial(power)


def exponential_lagrange_weights(nodes: list[float], start: float, end: float) -> list[float]:
    """Integral of e^u L_j(u) du from ``start`` to ``end`` for each Lagrange basis polynomial.

    DEIS's weights. In v = u - start the basis polynomials' monomial coefficients are the inverse
    Vandermonde matrix, and each monomial integrates in closed form against e^v. ``end`` may be
    -inf (integration down to sigma = 0).
    """
    shifted = np.asarray(nodes, dtype=np.float64) - start
    coefficients = np.linalg.inv(np.vander(shifted, len(nodes), increasing=True))
    moments = np.array([exponential_moment(k, end - start) for k in range(len(nodes))])
    return (math.exp(start) * (moments @ coefficients)).tolist()


def unipc_weights(rks: list[float], h: float) -> tuple[list[float], list[float]]:
    """UniPC's predictor and corrector weights (rhos) for one step of order ``len(rks)``.

    ``rks`` are (lambda_{i-k} - lambda_i) / h for the last steps k = 1 .. order - 1, newest first,
    then 1.0 for the step itself. This is the 'bh2' variant with data prediction: B(h) = expm1(-h).
    The predictor needs no weights at order 1; orders 1 and 2 use the closed-form 0.5.
    """
    order = len(rks)
    if order == 1:
        return [], [0.5]
    hh = -h
    h_phi_k = math.expm1(hh) / hh - 1
    factorial = 1
    b_h = math.expm1(hh)
    rows, rhs = [], []
    for k in range(1, order + 1):
        rows.append([rk ** (k - 1) for rk in rks])
        rhs.append(h_phi_k * factorial / b_h)
        factorial *= k + 1
        h_phi_k = h_phi_k / hh - 1 / factorial
    R, b = np.array(rows), np.array(rhs)
    predictor = [0.5] if order == 2 else np.linalg.solve(R[:-1, :-1], b[:-1]).tolist()
    return predictor, np.linalg.solve(R, b).tolist()

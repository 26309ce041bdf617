import math

import numpy as np
import pytest

from cadenza.integrator_weights import exponential_lagrange_weights, unipc_weights


def test_deis_weights_integrate_exponential_times_polynomial_exactly():
    nodes = [0.3, -0.4, -1.2]

    def polynomial(u):  # matched exactly by the Lagrange interpolant through three nodes
        return 0.5 - u + 2 * u**2

    values = [polynomial(u) for u in nodes]
    # Gauss-Legendre with 200 points is exact to rounding for this smooth integrand; e^-60
    # stands in for the tail down to u = -inf (sigma = 0).
    points, point_weights = np.polynomial.legendre.leggauss(200)
    for end, finite_end in ((-1.5, -1.5), (-math.inf, -60.0)):
        u = 0.5 * (0.3 - finite_end) * points + 0.5 * (0.3 + finite_end)
        exact = -0.5 * (0.3 - finite_end) * float((point_weights * polynomial(u) * np.exp(u)).sum())
        weights = exponential_lagrange_weights(nodes, 0.3, end)
        assert sum(w * v for w, v in zip(weights, values, strict=True)) == pytest.approx(
            exact, rel=1e-10
        )


def test_unipc_weights_meet_the_first_order_condition():
    h = 0.4
    assert unipc_weights([1.0], h) == ([], [0.5])
    assert unipc_weights([-0.7, 1.0], h)[0] == [0.5]
    # The first row of UniPC's system: the weights sum to (phi_1(h) - 1) / B(h), B = expm1(-h),
    # which tends to 1/2 as h -> 0 (the trapezoidal corrector).
    first = (math.expm1(-h) / -h - 1) / math.expm1(-h)
    predictor, corrector = unipc_weights([-1.3, -0.6, 1.0], h)
    assert len(predictor) == 2 and len(corrector) == 3
    assert sum(predictor) == pytest.approx(first, rel=1e-12)
    assert sum(corrector) == pytest.approx(first, rel=1e-12)
    assert sum(unipc_weights([-0.5, 1.0], 1e-6)[1]) == pytest.approx(0.5, rel=1e-5)

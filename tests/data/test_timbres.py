"""Timbres: the piano's inharmonicity curve."""

import numpy as np
import pytest

from cadenza.data.timbres import inharmonicity


def test_inharmonicity_curve_spans_the_piano():
    assert inharmonicity(21) == pytest.approx(1e-4)
    assert inharmonicity(108) == pytest.approx(1e-2)
    curve = [inharmonicity(p) for p in range(21, 109)]
    assert np.all(np.diff(curve) > 0)

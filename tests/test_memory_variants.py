"""benchmarks/memory_variants.py: progressive merge and the previous mask handed to the predictor."""

from __future__ import annotations

import numpy as np
import pytest
from script_loader import load_script

from ntclick.clicks import Click, ClickKind
from ntclick.prediction import Prediction

memory = load_script("benchmarks/memory_variants.py")


def test_progressive_merge_takes_only_the_clicked_change():
    previous = np.zeros((20, 20), bool)
    previous[2:6, 2:6] = True
    new = np.zeros((20, 20), bool)
    new[2:6, 2:10] = True  # grows right: one changed region
    new[15:18, 15:18] = True  # a far blob: another changed region
    merged = memory.progressive_merge(previous, new, x=8, y=3)
    np.testing.assert_array_equal(merged[2:6, 2:10], True)
    assert not merged[15:18, 15:18].any()  # the unclicked change is dropped
    # A removal works the same way: a bg click inside the part that disappears.
    shrunk = previous.copy()
    shrunk[2:6, 4:6] = False
    np.testing.assert_array_equal(memory.progressive_merge(previous, shrunk, x=5, y=3), shrunk)
    # The clicked pixel did not change: the new mask is taken whole.
    np.testing.assert_array_equal(memory.progressive_merge(previous, new, x=3, y=3), new)
    assert previous.sum() == 16  # inputs untouched


class _Scripted:
    """A predictor that answers from a list of masks, one per call."""

    def __init__(self, masks):
        self.masks = list(masks)
        self.given: list = []

    def set_image(self, image):
        pass

    def predict(self, clicks, prev_mask=None):
        self.given.append(prev_mask)
        mask = self.masks.pop(0)
        return Prediction(mask=mask, soft=mask.astype(np.float32), fbu=np.zeros(mask.shape, np.uint8))


def test_merge_applies_only_when_the_clicks_extend_the_last_call():
    a = np.zeros((10, 10), bool)
    a[0:3, 0:3] = True
    b = a.copy()
    b[0:3, 3:6] = True  # grows at the second click
    b[8:10, 8:10] = True  # and far away
    one, two = [Click(1, 1, ClickKind.FG)], [Click(1, 1, ClickKind.FG), Click(4, 1, ClickKind.FG)]
    p = memory.MemoryPredictor(_Scripted([a, b, b]), "merge", start=2)
    p.set_image(np.zeros((10, 10, 3), np.uint8))
    p.predict(one)
    merged = p.predict(two).soft > 0.49
    assert merged[1, 4] and not merged[9, 9]
    p.set_image(np.zeros((10, 10, 3), np.uint8))  # a new image forgets the last answer
    np.testing.assert_array_equal(p.predict(two).soft > 0.49, b)


def test_prior_grabcut_passes_the_last_answer_only_when_the_clicks_extend_it():
    a = np.zeros((10, 10), bool)
    a[0:3, 0:3] = True
    one, two = [Click(1, 1, ClickKind.FG)], [Click(1, 1, ClickKind.FG), Click(4, 1, ClickKind.FG)]
    inner = _Scripted([a, a, a, a])
    p = memory.MemoryPredictor(inner, "prior-grabcut", start=2)
    p.set_image(np.zeros((10, 10, 3), np.uint8))
    p.predict(one)
    p.predict(two)
    p.predict([Click(9, 9, ClickKind.BG), *two])  # not an extension: starts over
    p.set_image(np.zeros((10, 10, 3), np.uint8))
    p.predict(two)  # a new image forgets the last answer
    assert inner.given[0] is None and inner.given[2] is None and inner.given[3] is None
    np.testing.assert_array_equal(inner.given[1], a)


def test_unknown_variant_and_first_click_value_are_refused(capsys):
    with pytest.raises(ValueError, match="unknown variant"):
        memory.MemoryPredictor(_Scripted([]), "merged")
    with pytest.raises(SystemExit):
        memory.main(["--variant", "merge", "--value", "1"])
    assert "--value must be >= 2" in capsys.readouterr().err


def test_guard_holds_the_last_click_to_its_direction():
    a = np.zeros((10, 10), bool)
    a[0:3, 0:3] = True
    flooded = np.ones((10, 10), bool)
    one, two = [Click(1, 1, ClickKind.FG)], [Click(1, 1, ClickKind.FG), Click(8, 8, ClickKind.BG)]
    for variant, given in (("guard", None), ("guard-prior", a)):
        inner = _Scripted([a, flooded])
        p = memory.MemoryPredictor(inner, variant, start=2, wrong=1.1, flood=3.0, reach=0.5)
        p.set_image(np.zeros((10, 10, 3), np.uint8))
        p.predict(one)
        # a bg click that grew the mask keeps only what the last answer held
        np.testing.assert_array_equal(p.predict(two).soft > 0.49, a)
        if given is None:
            assert inner.given[1] is None  # "guard" alone does not hand the mask on
        else:
            np.testing.assert_array_equal(inner.given[1], given)

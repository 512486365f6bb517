"""Window / grid partitions and the partitioned attention of ntclick.modeling.grid_attention."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ntclick.modeling.grid_attention import (
    PartitionedAttention,
    grid_partition,
    grid_reverse,
    window_partition,
    window_reverse,
)


def _index_map(b: int, h: int, w: int) -> torch.Tensor:
    """(b, h, w, 3) float map whose channels are (batch, row, column) of each token."""
    bb, rr, cc = torch.meshgrid(torch.arange(b), torch.arange(h), torch.arange(w), indexing="ij")
    return torch.stack([bb, rr, cc], dim=-1).float()


@settings(max_examples=40, deadline=None)
@given(
    b=st.integers(1, 2),
    k=st.integers(1, 4),
    hk=st.integers(1, 4),
    wk=st.integers(1, 4),
    c=st.integers(1, 3),
)
def test_partition_then_reverse_is_identity(b, k, hk, wk, c):
    h, w = hk * k, wk * k
    x = torch.randn(b, h, w, c)
    assert torch.equal(window_reverse(window_partition(x, k), k, h, w), x)
    assert torch.equal(grid_reverse(grid_partition(x, k), k, h, w), x)
    assert window_partition(x, k).shape == (b * hk * wk, k * k, c)
    assert grid_partition(x, k).shape == (b * k * k, hk * wk, c)


@pytest.mark.parametrize("k,h,w", [(2, 4, 6), (3, 6, 3), (4, 8, 12)])
def test_grid_group_holds_tokens_with_equal_indices_modulo_k(k, h, w):
    b = 2
    groups = grid_partition(_index_map(b, h, w), k)  # (b*k*k, h*w/k^2, 3)
    seen = set()
    for g in range(b * k * k):
        batch, r, s = g // (k * k), (g // k) % k, g % k
        tokens = groups[g].long()
        assert (tokens[:, 0] == batch).all()
        assert (tokens[:, 1] % k == r).all() and (tokens[:, 2] % k == s).all()
        # exactly all such tokens: the group is the strided sub-grid x[batch, r::k, s::k]
        expected = {(batch, i, j) for i in range(r, h, k) for j in range(s, w, k)}
        assert {tuple(t) for t in tokens.tolist()} == expected
        seen |= expected
    assert len(seen) == b * h * w


def test_window_group_is_a_contiguous_block():
    k, h, w = 2, 4, 6
    windows = window_partition(_index_map(1, h, w), k)
    for g in range(windows.shape[0]):
        i, j = g // (w // k), g % (w // k)
        tokens = {tuple(t) for t in windows[g].long().tolist()}
        assert tokens == {(0, r, c) for r in range(i * k, (i + 1) * k) for c in range(j * k, (j + 1) * k)}


def _attention(mode: str, k: int) -> PartitionedAttention:
    torch.manual_seed(0)
    return PartitionedAttention(16, num_heads=2, mode=mode, window_size=k).eval()


def test_grid_with_k1_and_single_window_equal_global_attention():
    x = torch.randn(2, 6, 6, 16)
    reference = _attention("global", 1)(x)
    grid = _attention("grid", 1)(x)
    window = _attention("window", 6)(x)
    torch.testing.assert_close(grid, reference, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(window, reference, rtol=1e-5, atol=1e-6)
    # and a real partition is not global attention
    assert not torch.allclose(_attention("grid", 2)(x), reference, atol=1e-4)


@pytest.mark.parametrize("mode", ["grid", "window"])
def test_changing_one_token_changes_only_its_group(mode):
    k, h, w = 2, 6, 8
    attn = _attention(mode, k)
    x = torch.randn(1, h, w, 16)
    row, col = 3, 5
    y = x.clone()
    y[0, row, col] += 1.0
    changed = (attn(y) - attn(x)).abs().amax(dim=-1)[0] > 1e-6  # (h, w)
    rows, cols = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    if mode == "grid":
        group = (rows % k == row % k) & (cols % k == col % k)
    else:
        group = (rows // k == row // k) & (cols // k == col // k)
    assert torch.equal(changed, group)


def test_bad_partition_sizes_and_modes_raise():
    with pytest.raises(ValueError, match="not divisible"):
        grid_partition(torch.zeros(1, 6, 8, 2), 4)
    with pytest.raises(ValueError, match="attention mode"):
        PartitionedAttention(8, 2, mode="local")

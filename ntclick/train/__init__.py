"""Training and fine-tuning of the two NTClick networks (ECP and HRR).

Torch-free parts (importable without torch): :mod:`~ntclick.train.config` (the run
configuration), :mod:`~ntclick.train.sources` (datasets), :mod:`~ntclick.train.synthetic`
(synthetic thin structures with exact alpha), :mod:`~ntclick.train.augment`,
:mod:`~ntclick.train.samples` (ECP and HRR samples) and :mod:`~ntclick.train.metrics_log`.

Torch parts: :mod:`~ntclick.train.dataset`, :mod:`~ntclick.train.losses`,
:mod:`~ntclick.train.checkpoint`, :mod:`~ntclick.train.distributed` and
:mod:`~ntclick.train.trainer` (``train(config, out_dir)``) and :mod:`~ntclick.train.export`
(training checkpoints -> a ``from_pretrained`` weights folder).

This package module itself imports nothing, so ``import ntclick.train.synthetic`` never loads torch.
"""

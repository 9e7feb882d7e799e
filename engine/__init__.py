"""The ZONE engine: fused IP2P/MagicBrush denoising, localization, refinement and blending.

Importing this package is cheap: torch is imported only by the modules that need it
(`engine.registry`, `engine.models`, `engine.sampler`, ...).
"""

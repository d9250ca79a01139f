"""The engine tests compile kernels too (to check the kernel agrees on every hand-made panel);
they use the session's private kernel cache (tests/conftest.py), never the user's."""

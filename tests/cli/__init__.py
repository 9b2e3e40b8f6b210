"""Tests of the `jwp` client commands against real servers."""

//! Integration tests of the `synforge` command line.

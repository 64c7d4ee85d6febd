// The translation unit that builds the tests' precompiled header (cmake/sigil_rules.cmake
// sigil_test_flags); it has no code of its own.

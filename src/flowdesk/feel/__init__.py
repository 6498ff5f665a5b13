"""FEEL (DMN 1.5 chapter 10): lexer, parser, compiler to closures, built-ins. Pure, sandboxed."""

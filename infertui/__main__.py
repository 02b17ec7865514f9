try:
    from infertui.cli import main
except KeyboardInterrupt:  # Ctrl+C before main() could take it: still one line, exit 130
    import sys

    sys.stderr.write("infertui: interrupted\n")
    raise SystemExit(130) from None

raise SystemExit(main())

# CONTRACT.md §1 promises `python -m lunaroute.doctor`; the command itself is lunaroute.cli.doctor.
from .cli.doctor import main

if __name__ == "__main__":
    raise SystemExit(main())

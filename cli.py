"""Entry point: python cli.py --help"""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.cli_app import main  # noqa: E402

if __name__ == "__main__":
    main()

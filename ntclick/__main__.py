import sys

from ntclick.cli import main

sys.exit(main())

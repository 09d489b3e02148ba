import sys

from ragis.cli import main

sys.exit(main())

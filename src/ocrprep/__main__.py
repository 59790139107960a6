from ocrprep.cli import main

main()

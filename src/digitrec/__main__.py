from digitrec.cli import main

main()

from mimawari.cli import main

main()

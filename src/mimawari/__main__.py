from mimawari.entry import main

main()

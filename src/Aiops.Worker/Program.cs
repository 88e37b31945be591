// Entry point of the `aiops` executable; the command tree is built in the worker issue.
return 0;

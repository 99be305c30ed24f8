// Command shop stands for the monolith's main in deploy's tests: deploy
// reads only its package clause.
package main

func main() {}

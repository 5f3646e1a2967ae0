package main

// The built-in backends: importing a driver package registers its type.
// Add a driver here, blank, and nowhere else; feature code gets
// repositories from registry.Open.
import (
	_ "github.com/decnet/decnet-db/drivers/mysql"
	_ "github.com/decnet/decnet-db/drivers/postgres"
	_ "github.com/decnet/decnet-db/drivers/sqlite"
)

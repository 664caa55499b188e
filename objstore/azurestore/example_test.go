package azurestore_test

import (
	"context"
	"fmt"
	"log"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/objstore/azurestore"
)

// ExampleOpenURL reads the Currents files under a folder of an Azure
// container. The credentials come from the environment:
// AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT and
// AZURE_STORAGE_KEY, unless the URL carries a SAS token. (Not run: it
// needs an account; the package's tests run the same calls against
// Azurite.)
func ExampleOpenURL() {
	ctx := context.Background()
	store, prefix, err := azurestore.OpenURL(ctx, "https://acme.blob.core.windows.net/currents/prod")
	if err != nil {
		log.Fatal(err)
	}
	src := currents.NewSource(store, prefix, currents.WithEventTypes("users.messages.email.Send"))
	for ke, err := range src.All(ctx) {
		if err != nil {
			log.Print(err)
			continue
		}
		fmt.Println(ke.Event.EventID(), ke.Event.UserID())
	}
}

// ExampleParseURL shows the URL forms: the account's endpoint, an
// emulator's, and azure:// with the account left to the environment.
func ExampleParseURL() {
	for _, u := range []string{
		"https://acme.blob.core.windows.net/currents/prod",
		"http://127.0.0.1:10000/devstoreaccount1/currents/prod",
		"azure://currents/prod",
	} {
		loc, err := azurestore.ParseURL(u)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("service %q account %q container %q prefix %q\n", loc.ServiceURL, loc.Account, loc.Container, loc.Path)
	}
	// Output:
	// service "https://acme.blob.core.windows.net/" account "acme" container "currents" prefix "prod/"
	// service "http://127.0.0.1:10000/devstoreaccount1/" account "devstoreaccount1" container "currents" prefix "prod/"
	// service "" account "" container "currents" prefix "prod/"
}

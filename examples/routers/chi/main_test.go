package main

import (
	"testing"

	"github.com/socketfx/socketfx/examples/routers/rooms/roomsspec"
)

func TestRoomsAndAnnounce(t *testing.T) { roomsspec.Run(t, App()) }

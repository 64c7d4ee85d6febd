// The full flow (filled in once sigil-load lands).

"""Running streams: the stream class, the page sequence, bookmarks, parallel streams, output."""

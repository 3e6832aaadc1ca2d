"""Event Grid for the local storage account: a front end on the Blob endpoint that publishes events.

Azure Storage publishes `Microsoft.Storage.BlobCreated` when a write creates or replaces a blob, and Event
Grid delivers it to each subscription whose filter matches. Azurite publishes nothing, so the local stack
puts this front end on the Blob port the app's settings name and Azurite behind it: every request is
passed through unchanged, and each successful Put Blob, Put Block List or Copy Blob produces the event
Azure would send, delivered to the function's webhook with the Event Grid extension's system key. Its
cost follows the writes, not the number of blobs stored. It is not deployed.
"""

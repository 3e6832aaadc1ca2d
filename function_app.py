"""The Function App: creates the app and registers one blueprint per route family and trigger."""

import azure.functions as func

from shared.routes import (
    admin_keys,
    compat_seed000,
    compat_seed001,
    compat_seed002,
    compat_seed003,
    gallery,
    generations,
    health,
    image_links,
    library,
    models,
    openapi,
    playground,
    presets,
    usage,
    webhooks,
)
from shared.triggers import generation_poison, generation_worker, stale_jobs, thumbnails, webhook_delivery

# Every route is anonymous at the host (no function keys): the app authenticates each caller itself.
app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

app.register_functions(generations.bp)
app.register_functions(library.bp)
app.register_functions(image_links.bp)
app.register_functions(gallery.bp)
app.register_functions(presets.bp)
app.register_functions(usage.bp)
app.register_functions(models.bp)
app.register_functions(webhooks.bp)
app.register_functions(admin_keys.bp)
app.register_functions(health.bp)
app.register_functions(openapi.document_blueprint(app))
app.register_functions(playground.bp)
app.register_functions(compat_seed000.bp)
app.register_functions(compat_seed001.bp)
app.register_functions(compat_seed002.bp)
app.register_functions(compat_seed003.bp)
app.register_functions(generation_worker.bp)
app.register_functions(generation_poison.bp)
app.register_functions(stale_jobs.bp)
app.register_functions(thumbnails.bp)
app.register_functions(webhook_delivery.bp)

"""Compatibility route families: the four seed APIs served on the native core.

Each seed is a thin adapter: its documented request becomes a native job request, and the native result
becomes its documented response. No adapter has storage, queue or provider code of its own.
"""

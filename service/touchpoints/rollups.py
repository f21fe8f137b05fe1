"""Which services' status rollups writing touchpoints touches, so their locks (status.locks) are
taken before the first statement whose triggers count them."""

import uuid
from collections.abc import Iterable

from service.touchpoints.repository.lookups import References
from service.touchpoints.validation import TouchpointCreateItem


def rollup_services(items: Iterable[TouchpointCreateItem], refs: References) -> set[uuid.UUID]:
    """Each item's own service, and for a post-incident review the incident's (its month's reviews
    are recounted)."""
    listed = list(items)
    return {item.service_id for item in listed} | incident_services(listed, refs)


def incident_services(items: Iterable[TouchpointCreateItem], refs: References) -> set[uuid.UUID]:
    """The services of the incidents these items review, as the look-up found them."""
    services: set[uuid.UUID] = set()
    for item in items:
        incident = item.facts.__dict__.get("incident_id")
        if incident is not None and incident in refs.touchpoint_services:
            services.add(refs.touchpoint_services[incident])
    return services

"""Webhooks: endpoints an organisation registers, and the signed deliveries of status events to them.

`service.py` holds the rules of the API (register, change, rotate, list deliveries, redeliver);
`targets.py` where a delivery may go (HTTPS, public addresses only); `signing.py` the Standard
Webhooks signature; `delivery.py` what a job worker does for one endpoint: take its events from
the outbox in order, send each, record every attempt and retry on a schedule.
"""

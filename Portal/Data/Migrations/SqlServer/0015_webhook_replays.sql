-- The GitHub delivery ids (X-GitHub-Delivery) each project has acted on, so a delivery sent again (a replay of a
-- captured request, or a redelivery of one that worked) changes nothing. Kept for a window of days (received_at, Unix ms).
CREATE TABLE webhook_delivery_ids (
    project_id BIGINT NOT NULL REFERENCES projects(id),
    delivery_id NVARCHAR(100) NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, delivery_id)
);
CREATE INDEX ix_webhook_delivery_ids_received ON webhook_delivery_ids(received_at);

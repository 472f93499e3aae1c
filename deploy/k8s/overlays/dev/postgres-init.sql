-- A copy of infra/postgres/init.sql (kustomize reads no file outside the overlay): one database
-- per service, created on the first start of the dev Postgres.
CREATE DATABASE shortener;
CREATE DATABASE timeline;
CREATE DATABASE notifier;

-- First start of the compose Postgres: one database per service (each service owns its own).
CREATE DATABASE shortener;
CREATE DATABASE timeline;
CREATE DATABASE notifier;

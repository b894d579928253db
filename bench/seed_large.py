#!/usr/bin/env python3
"""Adds a large configuration to a stopped Portcullis SQLite database, in one transaction.

The management API creates one resource per call and republishes the snapshot each time, which
is right for people and far too slow for 100,000 subscriptions. The harness therefore sets up
the service, its product and the measured APIs through the API, stops the server, and lets
this script add the bulk rows next to them:

    seed_large.py DB SERVICE PRODUCT UPSTREAM_URL [APIS [OPERATIONS [SUBSCRIPTIONS]]]

Every API gets OPERATIONS operations with distinct templates and joins PRODUCT; every
subscription is scoped to PRODUCT with two fresh random keys. Timestamps and header names are
copied from rows the server wrote, so this follows whatever format the store uses.
"""
import secrets
import sqlite3
import sys


def main():
    db, service, product, upstream = sys.argv[1:5]
    apis = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
    operations = int(sys.argv[6]) if len(sys.argv) > 6 else 10
    subscriptions = int(sys.argv[7]) if len(sys.argv) > 7 else 100_000
    connection = sqlite3.connect(db)
    cursor = connection.cursor()
    service_id, = cursor.execute("SELECT id FROM services WHERE name = ?", (service,)).fetchone()
    product_id, = cursor.execute(
        "SELECT id FROM products WHERE service_id = ? AND name = ?", (service_id, product)
    ).fetchone()
    stamp, header, query = cursor.execute(
        "SELECT created_at, key_header_name, key_query_param_name FROM apis WHERE service_id = ?",
        (service_id,),
    ).fetchone()
    methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    for index in range(apis):
        name = f"bulk-{index:04}"
        cursor.execute(
            "INSERT INTO apis (service_id, name, display_name, service_url, path, path_key,"
            " subscription_required, key_header_name, key_query_param_name,"
            " forward_subscription_key, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, 0, ?, ?)",
            (service_id, name, f"Bulk {index}", upstream, f"bulk/{name}", f"bulk/{name}",
             header, query, stamp, stamp),
        )
        api_id = cursor.lastrowid
        cursor.execute(
            "INSERT INTO product_apis (product_id, api_id) VALUES (?, ?)", (product_id, api_id)
        )
        cursor.executemany(
            "INSERT INTO operations (api_id, name, display_name, method, url_template,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (api_id, f"op-{n}", f"Operation {n}", methods[n % len(methods)],
                 f"/resource-{n}/{{id}}", stamp, stamp)
                for n in range(operations)
            ],
        )
    cursor.executemany(
        "INSERT INTO subscriptions (service_id, name, display_name, scope_kind,"
        " scope_product_id, scope_api_id, state, primary_key, secondary_key, created_at,"
        " updated_at) VALUES (?, ?, ?, 'product', ?, NULL, 'active', ?, ?, ?, ?)",
        (
            (service_id, f"bulk-{n:06}", f"Bulk {n}", product_id,
             secrets.token_hex(16), secrets.token_hex(16), stamp, stamp)
            for n in range(subscriptions)
        ),
    )
    # A change that touched subscriptions, as the store would record it.
    cursor.execute(
        "UPDATE config_revision SET revision = revision + 1, grants_revision = revision + 1"
    )
    connection.commit()
    print(f"added {apis} APIs x {operations} operations and {subscriptions} subscriptions")


if __name__ == "__main__":
    main()

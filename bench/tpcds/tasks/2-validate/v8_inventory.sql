-- Validate (data quality): inventory snapshots, their weeks and missing quantities per warehouse.
SELECT i.inv_warehouse_sk AS warehouse, count(*) AS snapshots, count(DISTINCT i.inv_date_sk) AS weeks,
  count(*) FILTER (WHERE i.inv_quantity_on_hand IS NULL) AS no_quantity,
  count(*) FILTER (WHERE i.inv_quantity_on_hand < 0) AS negative_quantity,
  count(*) FILTER (WHERE w.w_warehouse_sk IS NULL) AS unknown_warehouse
FROM inventory i LEFT JOIN warehouse w ON w.w_warehouse_sk = i.inv_warehouse_sk
GROUP BY i.inv_warehouse_sk
ORDER BY warehouse;

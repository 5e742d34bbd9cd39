-- Validate (referential integrity): returns that match no sale (same item and ticket or order).
SELECT 'store_returns' AS fact, count(*) AS unmatched FROM store_returns r
WHERE NOT EXISTS (SELECT 1 FROM store_sales s WHERE s.ss_item_sk = r.sr_item_sk AND s.ss_ticket_number = r.sr_ticket_number)
UNION ALL
SELECT 'catalog_returns', count(*) FROM catalog_returns r
WHERE NOT EXISTS (SELECT 1 FROM catalog_sales s WHERE s.cs_item_sk = r.cr_item_sk AND s.cs_order_number = r.cr_order_number)
UNION ALL
SELECT 'web_returns', count(*) FROM web_returns r
WHERE NOT EXISTS (SELECT 1 FROM web_sales s WHERE s.ws_item_sk = r.wr_item_sk AND s.ws_order_number = r.wr_order_number)
ORDER BY fact;

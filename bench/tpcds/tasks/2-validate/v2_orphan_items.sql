-- Validate (referential integrity): sales, returns and inventory rows whose item is not in item.
SELECT 'store_sales' AS fact, count(*) AS orphans FROM store_sales WHERE ss_item_sk NOT IN (SELECT i_item_sk FROM item)
UNION ALL SELECT 'catalog_sales', count(*) FROM catalog_sales WHERE cs_item_sk NOT IN (SELECT i_item_sk FROM item)
UNION ALL SELECT 'web_sales', count(*) FROM web_sales WHERE ws_item_sk NOT IN (SELECT i_item_sk FROM item)
UNION ALL SELECT 'store_returns', count(*) FROM store_returns WHERE sr_item_sk NOT IN (SELECT i_item_sk FROM item)
UNION ALL SELECT 'inventory', count(*) FROM inventory WHERE inv_item_sk NOT IN (SELECT i_item_sk FROM item)
ORDER BY fact;

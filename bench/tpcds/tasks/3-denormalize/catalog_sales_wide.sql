-- Denormalize: catalog sales joined with their date, item, customer, address and call center.
CREATE OR REPLACE TABLE catalog_sales_wide AS
SELECT s.cs_order_number AS order_number, s.cs_item_sk AS item_sk, s.cs_bill_customer_sk AS customer_sk,
  d.d_date AS sold_date, d.d_year AS year, d.d_moy AS month,
  i.i_category AS category, i.i_class AS class, i.i_brand AS brand,
  c.c_customer_id AS customer_id, ca.ca_state AS state,
  s.cs_call_center_sk AS outlet_sk, cc.cc_name AS outlet_name,
  s.cs_quantity AS quantity, s.cs_sales_price AS sales_price, s.cs_ext_sales_price AS ext_sales_price,
  s.cs_net_paid AS net_paid, s.cs_net_profit AS net_profit
FROM catalog_sales s
JOIN date_dim d ON d.d_date_sk = s.cs_sold_date_sk
JOIN item i ON i.i_item_sk = s.cs_item_sk
LEFT JOIN customer c ON c.c_customer_sk = s.cs_bill_customer_sk
LEFT JOIN customer_address ca ON ca.ca_address_sk = c.c_current_addr_sk
LEFT JOIN call_center cc ON cc.cc_call_center_sk = s.cs_call_center_sk;
